import { getTextEncoding } from '@bufbuild/protobuf/wire';

/*
 * The reader generated decoders call (see decoder-source.ts). It mirrors
 * protobuf-es's BinaryReader read for read, including how it fails on
 * malformed input (premature EOF, over-long varints, illegal tags, invalid
 * UTF-8), so that a decoder built on it accepts and rejects exactly what
 * `fromBinary` does. It differs only in speed: no tuple per tag or 64-bit
 * varint, no DataView, and short ASCII strings decoded without TextDecoder.
 */

const { decodeUtf8 } = getTextEncoding();
const latin1Slice = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string;

/**
 * Strings up to this many bytes are decoded by a JavaScript loop when ASCII.
 * Kept short: from 13 characters on, V8 builds `s += c` as a rope that is
 * flattened again on first use as a Map key, and decoding a 19-character
 * task id this way and looking it up cost four times the native slice.
 */
const asciiLoopBytesMax = 10;
/** Strings up to this many bytes are checked for ASCII and sliced natively; longer ones go to TextDecoder. */
const asciiSliceBytesMax = 128;

/** What BinaryReader's DataView throws for a fixed-width read past the end. */
const pastDataView = 'Offset is outside the bounds of the DataView';

/** Scratch space for floating-point reads (little-endian hosts only; see `hostIsLittleEndian`). */
const f64 = new Float64Array(1);
const f32 = new Float32Array(f64.buffer, 0, 1);
const f64Bytes = new Uint8Array(f64.buffer);

/** True where typed arrays are little-endian, as the wire format is; elsewhere the codecs fall back. */
export const hostIsLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export class WireReader {
  readonly buf: Uint8Array;
  readonly len: number;
  pos = 0;
  /** Halves of the last 64-bit varint read, as BinaryReader's varint64() returns them. */
  lo = 0;
  hi = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.len = buf.length;
  }

  assertBounds(): void {
    if (this.pos > this.len) throw new RangeError('premature EOF');
  }

  /** A tag as one number (field number `<< 3` | wire type), checked as BinaryReader.tag() checks it. */
  tag(): number {
    const b = this.buf[this.pos];
    if (b >= 8 && b < 0x80 && (b & 7) <= 5) {
      this.pos++;
      return b;
    }
    const start = this.pos;
    const tag = this.uint32();
    const bytesRead = this.pos - start;
    if (bytesRead > 5 || (bytesRead === 5 && this.buf[this.pos - 1] > 0x0f)) throw new Error('illegal tag: varint overflows uint32');
    const fieldNo = tag >>> 3;
    const wireType = tag & 7;
    if (fieldNo <= 0 || wireType > 5) throw new Error(`illegal tag: field no ${fieldNo} wire type ${wireType}`);
    return tag;
  }

  /** BinaryReader's varint32read: up to ten bytes, the low 32 bits kept. */
  uint32(): number {
    const buf = this.buf;
    let b = buf[this.pos++];
    let result = b & 0x7f;
    if ((b & 0x80) === 0) {
      this.assertBounds();
      return result;
    }
    b = buf[this.pos++];
    result |= (b & 0x7f) << 7;
    if ((b & 0x80) === 0) {
      this.assertBounds();
      return result;
    }
    b = buf[this.pos++];
    result |= (b & 0x7f) << 14;
    if ((b & 0x80) === 0) {
      this.assertBounds();
      return result;
    }
    b = buf[this.pos++];
    result |= (b & 0x7f) << 21;
    if ((b & 0x80) === 0) {
      this.assertBounds();
      return result;
    }
    b = buf[this.pos++];
    result |= (b & 0x0f) << 28;
    for (let readBytes = 5; (b & 0x80) !== 0 && readBytes < 10; readBytes++) b = buf[this.pos++];
    if ((b & 0x80) !== 0) throw new Error('invalid varint');
    this.assertBounds();
    return result >>> 0;
  }

  int32(): number {
    return this.uint32() | 0;
  }

  sint32(): number {
    const z = this.uint32();
    return (z >>> 1) ^ -(z & 1);
  }

  /** BinaryReader's varint64read, into `lo` and `hi`. */
  varint64(): void {
    const buf = this.buf;
    let lo = 0;
    let hi = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      const b = buf[this.pos++];
      lo |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        this.assertBounds();
        this.lo = lo;
        this.hi = hi;
        return;
      }
    }
    const middle = buf[this.pos++];
    lo |= (middle & 0x0f) << 28;
    hi = (middle & 0x70) >> 4;
    if ((middle & 0x80) === 0) {
      this.assertBounds();
      this.lo = lo;
      this.hi = hi;
      return;
    }
    for (let shift = 3; shift <= 31; shift += 7) {
      const b = buf[this.pos++];
      hi |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        this.assertBounds();
        this.lo = lo;
        this.hi = hi;
        return;
      }
    }
    throw new Error('invalid varint');
  }

  bool(): boolean {
    this.varint64();
    return this.lo !== 0 || this.hi !== 0;
  }

  int64(): bigint {
    this.varint64();
    return int64(this.lo, this.hi);
  }

  uint64(): bigint {
    this.varint64();
    return uint64(this.lo, this.hi);
  }

  sint64(): bigint {
    this.varint64();
    const s = -(this.lo & 1);
    return int64(((this.lo >>> 1) | ((this.hi & 1) << 31)) ^ s, (this.hi >>> 1) ^ s);
  }

  fixed32(): number {
    return this.sfixed32() >>> 0;
  }

  sfixed32(): number {
    const p = this.pos;
    if (p + 4 > this.len) throw new RangeError(pastDataView);
    this.pos = p + 4;
    const b = this.buf;
    return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
  }

  fixed64(): bigint {
    const lo = this.sfixed32();
    return uint64(lo, this.sfixed32());
  }

  sfixed64(): bigint {
    const lo = this.sfixed32();
    return int64(lo, this.sfixed32());
  }

  float(): number {
    this.copy(4);
    return f32[0];
  }

  double(): number {
    this.copy(8);
    return f64[0];
  }

  private copy(n: number): void {
    const p = this.pos;
    if (p + n > this.len) throw new RangeError(pastDataView);
    this.pos = p + n;
    for (let i = 0; i < n; i++) f64Bytes[i] = this.buf[p + i];
  }

  /** Length-delimited bytes, sharing the input's memory as BinaryReader's do. */
  bytes(): Uint8Array {
    const n = this.uint32();
    const start = this.pos;
    this.pos += n;
    this.assertBounds();
    return this.buf.subarray(start, start + n);
  }

  /** A length-delimited string; `strict` throws on invalid UTF-8 as protobuf-es does for proto3 strings. */
  string(strict: boolean): string {
    const n = this.uint32();
    const start = this.pos;
    const end = start + n;
    this.pos = end;
    this.assertBounds();
    const buf = this.buf;
    if (n <= asciiLoopBytesMax) {
      let s = '';
      for (let i = start; i < end; i++) {
        const c = buf[i];
        if (c >= 0x80) return decodeUtf8(buf.subarray(start, end), strict);
        s += String.fromCharCode(c);
      }
      return s;
    }
    if (n <= asciiSliceBytesMax) {
      for (let i = start; i < end; i++) if (buf[i] >= 0x80) return decodeUtf8(buf.subarray(start, end), strict);
      return latin1Slice.call(buf, start, end);
    }
    return decodeUtf8(buf.subarray(start, end), strict);
  }

  /** Skips one value as BinaryReader.skip() does and returns its bytes (for unknown fields). */
  skip(wireType: number, fieldNo: number, recursionLimit: number): Uint8Array {
    const start = this.pos;
    switch (wireType) {
      case 0:
        while (this.buf[this.pos++] & 0x80) {
          // A varint ends at the first byte without the continuation bit.
        }
        break;
      case 1:
        this.pos += 8;
        break;
      case 5:
        this.pos += 4;
        break;
      case 2: {
        const n = this.uint32();
        this.pos += n;
        break;
      }
      case 3:
        if (recursionLimit <= 0) throw new Error('maximum recursion depth reached');
        for (;;) {
          const tag = this.tag();
          const fn = tag >>> 3;
          const wt = tag & 7;
          if (wt === 4) {
            if (fn !== fieldNo) throw new Error('invalid end group tag');
            break;
          }
          this.skip(wt, fn, recursionLimit - 1);
        }
        break;
      default:
        throw new Error(`cant skip wire type ${wireType}`);
    }
    this.assertBounds();
    return this.buf.subarray(start, this.pos);
  }
}

/** A signed 64-bit value from its two's complement halves. */
function int64(lo: number, hi: number): bigint {
  if (hi >= 0 && hi < 0x200000) return BigInt(hi * 0x100000000 + (lo >>> 0));
  return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
}

/** An unsigned 64-bit value from its halves. */
function uint64(lo: number, hi: number): bigint {
  const h = hi >>> 0;
  if (h < 0x200000) return BigInt(h * 0x100000000 + (lo >>> 0));
  return (BigInt(h) << 32n) | BigInt(lo >>> 0);
}
