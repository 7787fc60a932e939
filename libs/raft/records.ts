/**
 * The on-disk record framing of log segments and snapshot files:
 *
 *   u32 LE payload length | u32 LE CRC32C of (type byte + payload) | u8 type | payload
 *
 * Scanning classifies a bad record as a torn tail (the process died mid
 * write: nothing but zeros or the end of the file follows it) or as
 * corruption (valid-looking data follows), which must never be truncated away.
 */
import { crc32c } from '../checksum/crc32c';

export const recordHeaderBytes = 9;
/** No record is larger: a length above this is corruption, not data. */
export const recordPayloadBytesMax = 256 << 20;

export enum RecordType {
  Entry = 1,
  HardState = 2,
  Snapshot = 3,
}

/** Frames one record. */
export function encodeRecord(type: RecordType, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(recordHeaderBytes + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out[8] = type;
  out.set(payload, recordHeaderBytes);
  out.writeUInt32LE(crc32c(out.subarray(8)), 4);
  return out;
}

/** A record read back, with where it starts in the file. */
export interface ScannedRecord {
  type: RecordType;
  payload: Uint8Array;
  offset: number;
}

/** The outcome of scanning a file: its valid records, then how it ends. */
export interface ScanResult {
  records: ScannedRecord[];
  /** Byte length of the valid prefix. */
  validBytes: number;
  /** 'clean': ends at a record boundary; 'torn': a partial record at the end; 'corrupt': bad data before more data. */
  end: 'clean' | 'torn' | 'corrupt';
  problem: string;
}

function allZero(buf: Uint8Array, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Reads records until the end or the first bad one, and says which it was. */
export function scanRecords(buf: Buffer): ScanResult {
  const records: ScannedRecord[] = [];
  let at = 0;
  while (at < buf.length) {
    const bad = (problem: string, recordEnd: number): ScanResult => {
      const torn = recordEnd >= buf.length || allZero(buf, recordEnd) || allZero(buf, at);
      return { records, validBytes: at, end: torn ? 'torn' : 'corrupt', problem };
    };
    if (buf.length - at < recordHeaderBytes) return bad('incomplete record header', buf.length);
    const len = buf.readUInt32LE(at);
    if (len > recordPayloadBytesMax) return bad(`record length ${len} exceeds ${recordPayloadBytesMax}`, buf.length);
    const end = at + recordHeaderBytes + len;
    if (end > buf.length) return bad(`record of ${len} bytes runs past the end of the file`, buf.length);
    const crc = buf.readUInt32LE(at + 4);
    if (crc32c(buf.subarray(at + 8, end)) !== crc) return bad('record checksum mismatch', end);
    const type = buf[at + 8] as RecordType;
    records.push({ type, payload: buf.subarray(at + recordHeaderBytes, end), offset: at });
    at = end;
  }
  return { records, validBytes: at, end: 'clean', problem: '' };
}
