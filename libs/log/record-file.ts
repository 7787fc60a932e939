import { crc32c } from '../checksum/crc32c';

/** Bytes before each record's payload: u32 length, u32 CRC32C of the payload. */
export const recordHeaderBytes = 8;
/** Larger records are refused: a log entry carries at most this much. */
export const recordBytesMax = 8 * 1024 * 1024;

/**
 * Frames one payload as a record. Payloads are never empty, so a run of zero
 * bytes (what some file systems leave where a write never landed) never
 * reads as records.
 */
export function encodeRecord(payload: Uint8Array): Buffer {
  if (payload.length === 0) throw new RangeError('a record payload must not be empty');
  const out = Buffer.allocUnsafe(recordHeaderBytes + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32c(payload), 4);
  out.set(payload, recordHeaderBytes);
  return out;
}

/** What scanning a record file found. */
export interface ScanResult {
  payloads: Buffer[];
  /** Bytes of valid records from the start; the rest is a torn tail. */
  validBytes: number;
  /** Set when the file is damaged before its tail, so truncating would lose data. */
  corruption?: string;
}

/**
 * Reads records until the first invalid one. An invalid record at the tail
 * (a write that never completed) is a torn tail, to be truncated. An invalid
 * record followed anywhere by a valid one is corruption in the middle of the
 * log: the damaged record's own length cannot be trusted to find the next one.
 */
export function scanRecords(buf: Buffer): ScanResult {
  const payloads: Buffer[] = [];
  let off = 0;
  while (off < buf.length) {
    const rec = readRecord(buf, off);
    if (!rec) break;
    payloads.push(rec.payload);
    off = rec.next;
  }
  const later = off < buf.length ? findValidRecord(buf, off + 1) : undefined;
  if (later !== undefined) {
    return { payloads, validBytes: off, corruption: `invalid record at byte ${off} followed by a valid record at byte ${later}` };
  }
  return { payloads, validBytes: off };
}

function readRecord(buf: Buffer, off: number): { payload: Buffer; next: number } | undefined {
  if (off + recordHeaderBytes > buf.length) return undefined;
  const len = buf.readUInt32LE(off);
  const end = off + recordHeaderBytes + len;
  if (len === 0 || len > recordBytesMax || end > buf.length) return undefined;
  const payload = buf.subarray(off + recordHeaderBytes, end);
  if (crc32c(payload) !== buf.readUInt32LE(off + 4)) return undefined;
  return { payload, next: end };
}

/**
 * The first offset from `from` where a valid record starts, if any. Only
 * offsets whose length field fits in the file cost a checksum, so scanning a
 * torn tail (at most one record long) stays cheap.
 */
function findValidRecord(buf: Buffer, from: number): number | undefined {
  for (let p = from; p + recordHeaderBytes < buf.length; p++) {
    if (readRecord(buf, p)) return p;
  }
  return undefined;
}
