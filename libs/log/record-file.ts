import { crc32c } from '../checksum/crc32c';

/** Bytes before each record's payload: u32 length, u32 CRC32C of the payload. */
export const recordHeaderBytes = 8;
/** Larger records are refused: a log entry carries at most this much. */
export const recordBytesMax = 8 * 1024 * 1024;

/** Frames one payload as a record. */
export function encodeRecord(payload: Uint8Array): Buffer {
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
 * record followed by a valid one is corruption in the middle of the log.
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
  if (off < buf.length && hasValidRecordAfter(buf, off)) {
    return { payloads, validBytes: off, corruption: `invalid record at byte ${off} followed by valid records` };
  }
  return { payloads, validBytes: off };
}

function readRecord(buf: Buffer, off: number): { payload: Buffer; next: number } | undefined {
  if (off + recordHeaderBytes > buf.length) return undefined;
  const len = buf.readUInt32LE(off);
  const end = off + recordHeaderBytes + len;
  if (len > recordBytesMax || end > buf.length) return undefined;
  const payload = buf.subarray(off + recordHeaderBytes, end);
  if (crc32c(payload) !== buf.readUInt32LE(off + 4)) return undefined;
  return { payload, next: end };
}

/** True when a valid non-empty record starts right after the claimed end of the bad one. */
function hasValidRecordAfter(buf: Buffer, off: number): boolean {
  if (off + recordHeaderBytes > buf.length) return false;
  const len = buf.readUInt32LE(off);
  const next = off + recordHeaderBytes + len;
  if (len > recordBytesMax || next >= buf.length) return false;
  const rec = readRecord(buf, next);
  return rec !== undefined && rec.payload.length > 0;
}
