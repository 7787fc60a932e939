/*
 * Helpers that generated encoders call (see encoder-source.ts). Small and
 * monomorphic on purpose, so that V8 inlines them into the generated code.
 */

/** Unknown fields as protobuf-es keeps them on a message. */
export interface UnknownField {
  no: number;
  wireType: number;
  data: Uint8Array;
}

/** Bytes of `v` (an unsigned 32-bit value) as a varint. */
export function varint32Bytes(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

/** Bytes of an int32 or enum value: negative values take ten, as a sign-extended 64-bit varint. */
export function int32Bytes(v: number): number {
  return v < 0 ? 10 : varint32Bytes(v);
}

/** Length prefix plus UTF-8 bytes of `s`; ASCII strings (nearly all of ours) are counted without a native call. */
export function stringBytes(s: string): number {
  const len = utf8Bytes(s);
  return varint32Bytes(len) + len;
}

function utf8Bytes(s: string): number {
  const n = s.length;
  if (n > 64) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return n;
}

export function varint64Bytes(v: bigint): number {
  // Numbers are far cheaper than bigints; most of our 64-bit values (times, indexes) fit 53 bits.
  const n = Number(v);
  if (n <= Number.MAX_SAFE_INTEGER) {
    if (n < 0x100000000) return varint32Bytes(n);
    return n < 0x800000000 ? 5 : 5 + varint32Bytes(Math.floor(n / 0x800000000));
  }
  let bytes = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    bytes++;
  }
  return bytes;
}

/**
 * A 64-bit field's value as a number when it is a bigint in [0, 2^53), the
 * usual case (times, indexes, byte counts), else -1: the size pass converts
 * once and records the result for the write pass.
 */
export function safeUint(v: unknown): number {
  if (typeof v === 'bigint') {
    const n = Number(v);
    if (n >= 0 && n <= Number.MAX_SAFE_INTEGER) return n;
  }
  return -1;
}

/** Bytes of a non-negative safe integer as a varint. */
export function safeUintBytes(n: number): number {
  if (n < 0x100000000) return varint32Bytes(n);
  return n < 0x800000000 ? 5 : 5 + varint32Bytes(Math.floor(n / 0x800000000));
}

/** Writes a non-negative safe integer as a varint, 32 bits at a time rather than by float division. */
export function writeSafeUint(buf: Buffer, pos: number, n: number): number {
  let lo = n >>> 0;
  let hi = (n - lo) / 0x100000000;
  while (hi > 0 || lo > 0x7f) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  buf[pos] = lo;
  return pos + 1;
}

/** A 64-bit value as unsigned two's complement; non-negative bigints (the usual case) as they are. */
export function u64(v: unknown): bigint {
  return typeof v === 'bigint' && v >= 0n ? v : BigInt.asUintN(64, BigInt(v as bigint));
}

export function zigzag64(v: unknown): bigint {
  const b = BigInt.asIntN(64, BigInt(v as bigint));
  return BigInt.asUintN(64, (b << 1n) ^ (b >> 63n));
}

export function unknownBytes(unknown: UnknownField[]): number {
  let n = 0;
  for (const u of unknown) n += varint32Bytes(((u.no << 3) | u.wireType) >>> 0) + u.data.byteLength;
  return n;
}

export function writeUnknown(buf: Buffer, pos: number, unknown: UnknownField[]): number {
  for (const u of unknown) {
    pos = writeVarint32(buf, pos, ((u.no << 3) | u.wireType) >>> 0);
    buf.set(u.data, pos);
    pos += u.data.byteLength;
  }
  return pos;
}

export function writeVarint32(buf: Buffer, pos: number, v: number): number {
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos] = v;
  return pos + 1;
}

export function writeInt32(buf: Buffer, pos: number, v: number): number {
  return v < 0 ? writeVarint64(buf, pos, BigInt.asUintN(64, BigInt(v))) : writeVarint32(buf, pos, v);
}

export function writeVarint64(buf: Buffer, pos: number, v: bigint): number {
  let n = Number(v);
  if (n <= Number.MAX_SAFE_INTEGER) {
    if (n < 0x100000000) return writeVarint32(buf, pos, n);
    while (n > 0x7f) {
      buf[pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    buf[pos] = n;
    return pos + 1;
  }
  while (v > 0x7fn) {
    buf[pos++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  buf[pos] = Number(v);
  return pos + 1;
}

/**
 * Writes a length-prefixed string. Short ASCII strings are copied as they are
 * checked, in one pass; anything else is measured and written natively.
 */
export function writeString(buf: Buffer, pos: number, s: string): number {
  const n = s.length;
  if (n < 0x80) {
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[pos + 1 + i] = c;
    }
    if (i === n) {
      buf[pos] = n;
      return pos + 1 + n;
    }
  }
  const len = utf8Bytes(s);
  pos = writeVarint32(buf, pos, len);
  return pos + buf.write(s, pos, len, 'utf8');
}

export function writeBytes(buf: Buffer, pos: number, b: Uint8Array): number {
  pos = writeVarint32(buf, pos, b.byteLength);
  buf.set(b, pos);
  return pos + b.byteLength;
}

export function writeFixed32(buf: Buffer, pos: number, v: number): number {
  buf[pos] = v;
  buf[pos + 1] = v >>> 8;
  buf[pos + 2] = v >>> 16;
  buf[pos + 3] = v >>> 24;
  return pos + 4;
}

export function writeFixed64(buf: Buffer, pos: number, v: unknown): number {
  return buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v as bigint)), pos);
}

export function writeSfixed64(buf: Buffer, pos: number, v: unknown): number {
  return buf.writeBigInt64LE(BigInt.asIntN(64, BigInt(v as bigint)), pos);
}

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function writeDouble(buf: Buffer, pos: number, v: number): number {
  if (!littleEndian) return buf.writeDoubleLE(v, pos);
  f64[0] = v;
  for (let i = 0; i < 8; i++) buf[pos + i] = f64Bytes[i];
  return pos + 8;
}

export function writeFloat(buf: Buffer, pos: number, v: number): number {
  return buf.writeFloatLE(v, pos);
}

export function allocUnsafe(n: number): Buffer {
  return Buffer.allocUnsafe(n);
}

/** What generated encoders may call, by the names they use. */
export const writeRuntime = {
  varint32Bytes,
  int32Bytes,
  stringBytes,
  varint64Bytes,
  safeUint,
  safeUintBytes,
  writeSafeUint,
  u64,
  zigzag64,
  unknownBytes,
  writeUnknown,
  writeVarint32,
  writeInt32,
  writeVarint64,
  writeString,
  writeBytes,
  writeFixed32,
  writeFixed64,
  writeSfixed64,
  writeDouble,
  writeFloat,
  allocUnsafe,
};
