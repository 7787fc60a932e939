import { ScalarType, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { planOf, type AnyMessage, type FieldPlan, type MessagePlan } from './fast-binary-plan';

/*
 * protobuf-es's `toBinary` walks every message through its reflection API
 * (a wrapper object, a presence check and a field lookup per field) and
 * builds the output from many small chunks. On the coordinator's hot path
 * (worker streams, the event feed, the log) that was about a fifth of the
 * CPU. This encoder produces the same bytes (checked against `toBinary` in
 * fast-binary.test.ts) from a plan built once per message type: plain
 * property reads, one pass to size the message, one to write it into a
 * single buffer.
 */

// Local copies: reading an imported enum member goes through a getter in
// CommonJS output, which the switches below would pay on every field.
const STRING = ScalarType.STRING;
const BYTES = ScalarType.BYTES;
const BOOL = ScalarType.BOOL;
const DOUBLE = ScalarType.DOUBLE;
const FLOAT = ScalarType.FLOAT;
const FIXED32 = ScalarType.FIXED32;
const SFIXED32 = ScalarType.SFIXED32;
const FIXED64 = ScalarType.FIXED64;
const SFIXED64 = ScalarType.SFIXED64;
const INT32 = ScalarType.INT32;
const UINT32 = ScalarType.UINT32;
const SINT32 = ScalarType.SINT32;
const SINT64 = ScalarType.SINT64;

/** Hand-written encoders for a few hot message types, by type (see {@link registerEncoder}). */
const encoders = new Map<DescMessage, (message: never) => Uint8Array>();

/**
 * Makes `fastToBinary` (and so every gRPC port) encode messages of `schema`
 * with `encode`, which must produce exactly the bytes `toBinary` would. For a
 * message type so hot that even the plan-driven encoder shows in profiles
 * (the result feed, services/results/feed-encode.ts).
 */
export function registerEncoder<Desc extends DescMessage>(schema: Desc, encode: (message: MessageShape<Desc>) => Uint8Array): void {
  encoders.set(schema, encode as (message: never) => Uint8Array);
}

/**
 * Encodes `message` exactly as `toBinary(schema, message)` would. Message
 * types this encoder does not cover (groups, maps with non-string keys,
 * well-known types with special representations) go to `toBinary`.
 */
export function fastToBinary<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): Uint8Array {
  const custom = encoders.get(schema);
  if (custom) return custom(message as never);
  const plan = planOf(schema);
  if (!plan) return toBinary(schema, message);
  const sizes: number[] = [];
  const total = sizeMessage(plan, message as unknown as AnyMessage, sizes);
  const out = Buffer.allocUnsafe(total);
  const cursor = { size: 0 };
  const end = writeMessage(plan, message as unknown as AnyMessage, out, 0, sizes, cursor);
  if (end !== total) throw new Error(`fastToBinary: ${schema.typeName} wrote ${end} of ${total} bytes`);
  return out;
}

function sizeMessage(plan: MessagePlan, m: AnyMessage, sizes: number[]): number {
  let n = 0;
  for (const f of plan.fields) {
    const v = valueOf(f, m);
    if (v === undefined) continue;
    switch (f.kind) {
      case 'scalar':
        n += f.tagBytes + scalarBytes(f.scalar, v);
        break;
      case 'message':
        n += f.tagBytes + nestedBytes(f.message!, v as AnyMessage, sizes);
        break;
      case 'list':
        n += sizeList(f, v as unknown[], sizes);
        break;
      case 'map':
        for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
          const body = 1 + scalarBytes(STRING, k) + 1 + (f.message ? nestedBytes(f.message, x as AnyMessage, sizes) : scalarBytes(f.scalar, x));
          n += f.tagBytes + varint32Bytes(body) + body;
        }
        break;
    }
  }
  return n + unknownBytes(m);
}

function sizeList(f: FieldPlan, list: unknown[], sizes: number[]): number {
  let n = 0;
  if (f.message) {
    for (const item of list) n += f.tagBytes + nestedBytes(f.message, item as AnyMessage, sizes);
  } else if (f.packed) {
    let body = 0;
    for (const item of list) body += scalarBytes(f.scalar, item);
    n += f.tagBytes + varint32Bytes(body) + body;
  } else {
    for (const item of list) n += f.tagBytes + scalarBytes(f.scalar, item);
  }
  return n;
}

/** Length prefix plus body of a nested message; its body size is recorded for the write pass. */
function nestedBytes(plan: MessagePlan, m: AnyMessage, sizes: number[]): number {
  const slot = sizes.length;
  sizes.push(0);
  const body = sizeMessage(plan, m, sizes);
  sizes[slot] = body;
  return varint32Bytes(body) + body;
}

function unknownBytes(m: AnyMessage): number {
  const unknown = m.$unknown as { no: number; wireType: number; data: Uint8Array }[] | undefined;
  if (!unknown) return 0;
  let n = 0;
  for (const u of unknown) n += varint32Bytes((u.no << 3) | u.wireType) + u.data.byteLength;
  return n;
}

function scalarBytes(t: ScalarType, v: unknown): number {
  switch (t) {
    case STRING: {
      const len = utf8Bytes(v as string);
      return varint32Bytes(len) + len;
    }
    case BYTES: {
      const len = (v as Uint8Array).byteLength;
      return varint32Bytes(len) + len;
    }
    case BOOL:
      return 1;
    case DOUBLE:
    case FIXED64:
    case SFIXED64:
      return 8;
    case FLOAT:
    case FIXED32:
    case SFIXED32:
      return 4;
    case INT32:
      return (v as number) < 0 ? 10 : varint32Bytes(v as number);
    case UINT32:
      return varint32Bytes((v as number) >>> 0);
    case SINT32:
      return varint32Bytes((((v as number) << 1) ^ ((v as number) >> 31)) >>> 0);
    case SINT64:
      return varint64Bytes(zigzag64(v));
    default:
      return varint64Bytes(u64(v));
  }
}

function varint64Bytes(v: bigint): number {
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

/** A 64-bit value as unsigned two's complement; non-negative bigints (the usual case) as they are. */
function u64(v: unknown): bigint {
  return typeof v === 'bigint' && v >= 0n ? v : BigInt.asUintN(64, BigInt(v as bigint));
}

function zigzag64(v: unknown): bigint {
  const b = BigInt.asIntN(64, BigInt(v as bigint));
  return BigInt.asUintN(64, (b << 1n) ^ (b >> 63n));
}


/** Where the write pass is in the list of nested-message sizes the size pass recorded. */
interface Cursor {
  size: number;
}

function writeMessage(plan: MessagePlan, m: AnyMessage, buf: Buffer, pos: number, sizes: number[], cur: Cursor): number {
  for (const f of plan.fields) {
    const v = valueOf(f, m);
    if (v === undefined) continue;
    switch (f.kind) {
      case 'scalar':
        pos = writeScalar(buf, writeVarint32(buf, pos, f.tag), f.scalar, v);
        break;
      case 'message':
        pos = writeNested(f.message!, v as AnyMessage, buf, writeVarint32(buf, pos, f.tag), sizes, cur);
        break;
      case 'list':
        pos = writeList(f, v as unknown[], buf, pos, sizes, cur);
        break;
      case 'map':
        for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
          const value = f.message ? varint32Bytes(sizes[cur.size]) + sizes[cur.size] : scalarBytes(f.scalar, x);
          pos = writeVarint32(buf, pos, f.tag);
          pos = writeVarint32(buf, pos, 1 + scalarBytes(STRING, k) + 1 + value);
          pos = writeScalar(buf, writeVarint32(buf, pos, (1 << 3) | 2), STRING, k);
          pos = writeVarint32(buf, pos, f.valueTag);
          pos = f.message ? writeNested(f.message, x as AnyMessage, buf, pos, sizes, cur) : writeScalar(buf, pos, f.scalar, x);
        }
        break;
    }
  }
  const unknown = m.$unknown as { no: number; wireType: number; data: Uint8Array }[] | undefined;
  for (const u of unknown ?? []) {
    pos = writeVarint32(buf, pos, (u.no << 3) | u.wireType);
    buf.set(u.data, pos);
    pos += u.data.byteLength;
  }
  return pos;
}

function writeList(f: FieldPlan, list: unknown[], buf: Buffer, pos: number, sizes: number[], cur: Cursor): number {
  if (f.message) {
    for (const item of list) pos = writeNested(f.message, item as AnyMessage, buf, writeVarint32(buf, pos, f.tag), sizes, cur);
  } else if (f.packed) {
    let body = 0;
    for (const item of list) body += scalarBytes(f.scalar, item);
    pos = writeVarint32(buf, writeVarint32(buf, pos, f.tag), body);
    for (const item of list) pos = writeScalar(buf, pos, f.scalar, item);
  } else {
    for (const item of list) pos = writeScalar(buf, writeVarint32(buf, pos, f.tag), f.scalar, item);
  }
  return pos;
}

function writeNested(plan: MessagePlan, m: AnyMessage, buf: Buffer, pos: number, sizes: number[], cur: Cursor): number {
  const body = sizes[cur.size++];
  return writeMessage(plan, m, buf, writeVarint32(buf, pos, body), sizes, cur);
}

function writeScalar(buf: Buffer, pos: number, t: ScalarType, v: unknown): number {
  switch (t) {
    case STRING:
      return writeString(buf, pos, v as string);
    case BYTES: {
      const b = v as Uint8Array;
      pos = writeVarint32(buf, pos, b.byteLength);
      buf.set(b, pos);
      return pos + b.byteLength;
    }
    case BOOL:
      buf[pos] = v ? 1 : 0;
      return pos + 1;
    case DOUBLE:
      return buf.writeDoubleLE(v as number, pos);
    case FLOAT:
      return buf.writeFloatLE(v as number, pos);
    case FIXED32:
      return buf.writeUInt32LE((v as number) >>> 0, pos);
    case SFIXED32:
      return buf.writeInt32LE(v as number, pos);
    case FIXED64:
      return buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v as bigint)), pos);
    case SFIXED64:
      return buf.writeBigInt64LE(BigInt.asIntN(64, BigInt(v as bigint)), pos);
    case INT32:
      return (v as number) < 0 ? writeVarint64(buf, pos, BigInt.asUintN(64, BigInt(v as number))) : writeVarint32(buf, pos, v as number);
    case UINT32:
      return writeVarint32(buf, pos, (v as number) >>> 0);
    case SINT32:
      return writeVarint32(buf, pos, (((v as number) << 1) ^ ((v as number) >> 31)) >>> 0);
    case SINT64:
      return writeVarint64(buf, pos, zigzag64(v));
    default:
      return writeVarint64(buf, pos, u64(v));
  }
}

function writeString(buf: Buffer, pos: number, s: string): number {
  const len = utf8Bytes(s);
  pos = writeVarint32(buf, pos, len);
  if (len !== s.length) return pos + buf.write(s, pos, len, 'utf8');
  for (let i = 0; i < len; i++) buf[pos + i] = s.charCodeAt(i);
  return pos + len;
}

function writeVarint32(buf: Buffer, pos: number, v: number): number {
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos] = v;
  return pos + 1;
}

function writeVarint64(buf: Buffer, pos: number, v: bigint): number {
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

/** The field's value, or undefined when `toBinary` would not write it. */
function valueOf(f: FieldPlan, m: AnyMessage): unknown {
  if (f.oneof !== undefined) {
    const o = m[f.oneof] as { case: string | undefined; value?: unknown } | undefined;
    return o !== undefined && o.case === f.localName ? o.value : undefined;
  }
  const v = m[f.localName];
  if (v === undefined || f.explicit) return v;
  switch (f.kind) {
    case 'list':
      return (v as unknown[]).length > 0 ? v : undefined;
    case 'map':
      return Object.keys(v as object).length > 0 ? v : undefined;
    default:
      return isZero(f.scalar, v) ? undefined : v;
  }
}

function isZero(t: ScalarType, v: unknown): boolean {
  switch (t) {
    case BOOL:
      return v === false;
    case STRING:
      return v === '';
    case BYTES:
      return (v as Uint8Array).byteLength === 0;
    case DOUBLE:
    case FLOAT:
      return Object.is(v, 0);
    default:
      // Loose on purpose, as protobuf-es: 0, 0n and "0" are all zero.
      return v == 0;
  }
}

/** Bytes of `v` (an unsigned 32-bit value) as a varint. */
function varint32Bytes(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

/** UTF-8 length; ASCII strings (nearly all of ours) are counted without a native call. */
function utf8Bytes(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return s.length;
}

