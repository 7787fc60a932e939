import { ScalarType, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { fieldsByNumber, nestedMessage, reachable } from './coverage';
import { int, member, str } from './source';

/*
 * Source of an encoder for one message type and every type it reaches: per
 * type a size function `s<i>(m)` and a write function `w<i>(m, buf, pos)`,
 * with each field's property read, zero check, tag bytes and scalar encoding
 * spelled out. The size pass records every nested length (messages, packed
 * lists, map entries) in `sizes`, in the order the write pass needs them.
 * Output is byte for byte what protobuf-es's `toBinary` writes: fields in
 * number order, implicit-presence fields only when not zero, unknown fields last.
 */

const wireVarint = 0;
const wireBit64 = 1;
const wireLen = 2;
const wireBit32 = 5;

/** Nested lengths kept between calls; past this many the list is dropped after use. */
const sizesKeptMax = 1 << 16;

/** The body of a function of write-runtime.ts's exports that returns `encode(message): Buffer`. */
export function encoderSource(root: DescMessage): string {
  const types = reachable(root);
  const index = new Map(types.map((t, i) => [t, i]));
  const out: string[] = ['const sizes = [];', 'let sp = 0;', 'let wp = 0;'];
  types.forEach((t, i) => out.push(sizeFunction(t, i, index), writeFunction(t, i, index)));
  out.push(`return function encode(m) {
  sp = 0;
  const total = s0(m);
  const buf = allocUnsafe(total);
  wp = 0;
  const end = w0(m, buf, 0);
  if (end !== total || wp !== sp) throw new Error(${str(`fastToBinary: ${root.typeName}: `)} + "wrote " + end + " of " + total + " bytes");
  if (sp > ${int(sizesKeptMax)}) sizes.length = 0;
  return buf;
};`);
  return out.join('\n');
}

type Index = Map<DescMessage, number>;

/** Runs of fields in number order; consecutive members of one oneof share a switch on its case. */
function runs(desc: DescMessage): DescField[][] {
  const out: DescField[][] = [];
  for (const f of fieldsByNumber(desc)) {
    const last = out[out.length - 1];
    if (f.oneof && last && last[0].oneof === f.oneof) last.push(f);
    else out.push([f]);
  }
  return out;
}

/** Emits each run: a oneof run becomes a switch whose cases read `v` from the case's value. */
function emitRuns(desc: DescMessage, body: (f: DescField) => string): string {
  return runs(desc)
    .map((run) => {
      const o = run[0].oneof;
      if (!o) return body(run[0]);
      const cases = run.map((f) => `    case ${str(f.localName)}: v = o.value; if (v !== undefined) { ${body(f)} } break;`);
      return `  o = ${member('m', o.localName)};\n  if (o !== undefined) switch (o.case) {\n${cases.join('\n')}\n  }`;
    })
    .join('\n');
}

function sizeFunction(desc: DescMessage, i: number, index: Index): string {
  const body = emitRuns(desc, (f) => sizeField(f, index));
  return `function s${i}(m) {
  let n = 0, v, o, b, slot;
${body}
  v = m.$unknown;
  if (v !== undefined) n += unknownBytes(v);
  return n;
}`;
}

function writeFunction(desc: DescMessage, i: number, index: Index): string {
  const body = emitRuns(desc, (f) => writeField(f, index));
  return `function w${i}(m, buf, pos) {
  let v, o, b;
${body}
  v = m.$unknown;
  if (v !== undefined) pos = writeUnknown(buf, pos, v);
  return pos;
}`;
}

/** Reads the field into `v` and guards on `toBinary`'s presence rule; oneof members arrive with `v` set. */
function guarded(f: DescField, stmt: string): string {
  if (f.oneof) return stmt;
  const read = `  v = ${member('m', f.localName)};\n`;
  switch (f.fieldKind) {
    case 'message':
      return `${read}  if (v !== undefined) { ${stmt} }`;
    case 'list':
      return `${read}  if (v !== undefined && v.length !== 0) { ${stmt} }`;
    case 'map':
      return `${read}  if (v !== undefined) { ${stmt} }`;
    default: {
      // proto3 `optional` fields are written whenever they are set, even to zero.
      const explicit = f.presence !== implicitPresence;
      const scalar = f.fieldKind === 'enum' ? ScalarType.INT32 : f.scalar;
      return `${read}  if (v !== undefined${explicit ? '' : ` && ${notZero(scalar)}`}) { ${stmt} }`;
    }
  }
}

/** FeatureSet.FieldPresence.IMPLICIT: proto3 singular fields without `optional`. */
const implicitPresence = 2;

/** `v` is not the zero value, by the same test as protobuf-es (loose for integers: 0, 0n and "0" are zero). */
function notZero(t: ScalarType): string {
  switch (t) {
    case ScalarType.BOOL:
      return 'v !== false';
    case ScalarType.STRING:
      return "v !== ''";
    case ScalarType.BYTES:
      return 'v.byteLength !== 0';
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      // Only +0 is zero: -0 is written.
      return '(v !== 0 || 1 / v < 0)';
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      // Strict for bigints, which compare loosely with numbers only through a slow path.
      return "(typeof v === 'bigint' ? v !== 0n : v != 0)";
    default:
      return 'v != 0';
  }
}

/** Singular int64 and uint64 values go through `safeUint` once, in the size pass. */
function viaSafeUint(t: ScalarType): boolean {
  return t === ScalarType.INT64 || t === ScalarType.UINT64;
}

function sizeField(f: DescField, index: Index): string {
  const nested = nestedMessage(f);
  const fn = nested && `s${int(index.get(nested)!)}`;
  switch (f.fieldKind) {
    case 'scalar':
    case 'enum': {
      const t = scalarOf(f);
      if (viaSafeUint(t)) return guarded(f, `b = safeUint(v); sizes[sp++] = b; n += ${int(tagBytes(f.number, wireVarint).length)} + (b >= 0 ? safeUintBytes(b) : ${scalarSize(t, 'v')});`);
      return guarded(f, `n += ${int(tagBytes(f.number, wireOf(t)).length)} + ${scalarSize(t, 'v')};`);
    }
    case 'message':
      return guarded(f, `slot = sp++; b = ${fn}(v); sizes[slot] = b; n += ${int(tagBytes(f.number, wireLen).length)} + varint32Bytes(b) + b;`);
    case 'list': {
      if (f.listKind === 'message') {
        return guarded(f, `for (let i = 0; i < v.length; i++) { slot = sp++; b = ${fn}(v[i]); sizes[slot] = b; n += ${int(tagBytes(f.number, wireLen).length)} + varint32Bytes(b) + b; }`);
      }
      const t = scalarOf(f);
      if (f.packed) {
        return guarded(f, `slot = sp++; b = 0; for (let i = 0; i < v.length; i++) { const x = v[i]; b += ${scalarSize(t, 'x')}; } sizes[slot] = b; n += ${int(tagBytes(f.number, wireLen).length)} + varint32Bytes(b) + b;`);
      }
      return guarded(f, `for (let i = 0; i < v.length; i++) { const x = v[i]; n += ${int(tagBytes(f.number, wireOf(t)).length)} + ${scalarSize(t, 'x')}; }`);
    }
    case 'map': {
      const value = fn ? `(sizes[inner] = ${fn}(x), varint32Bytes(sizes[inner]) + sizes[inner])` : scalarSize(scalarOf(f), 'x');
      const inner = fn ? 'const inner = sp++; ' : '';
      return guarded(
        f,
        `for (const k in v) { const x = v[k]; slot = sp++; ${inner}const e = 2 + stringBytes(k) + ${value}; sizes[slot] = e; n += ${int(tagBytes(f.number, wireLen).length)} + varint32Bytes(e) + e; }`,
      );
    }
  }
}

function writeField(f: DescField, index: Index): string {
  const nested = nestedMessage(f);
  const fn = nested && `w${int(index.get(nested)!)}`;
  switch (f.fieldKind) {
    case 'scalar':
    case 'enum': {
      const t = scalarOf(f);
      if (viaSafeUint(t)) return guarded(f, `${writeTag(f.number, wireVarint)} b = sizes[wp++]; if (b >= 0) pos = writeSafeUint(buf, pos, b); else ${scalarWrite(t, 'v')}`);
      return guarded(f, `${writeTag(f.number, wireOf(t))} ${scalarWrite(t, 'v')}`);
    }
    case 'message':
      return guarded(f, `${writeTag(f.number, wireLen)} pos = writeVarint32(buf, pos, sizes[wp++]); pos = ${fn}(v, buf, pos);`);
    case 'list': {
      if (f.listKind === 'message') {
        return guarded(f, `for (let i = 0; i < v.length; i++) { ${writeTag(f.number, wireLen)} pos = writeVarint32(buf, pos, sizes[wp++]); pos = ${fn}(v[i], buf, pos); }`);
      }
      const t = scalarOf(f);
      if (f.packed) {
        return guarded(f, `${writeTag(f.number, wireLen)} pos = writeVarint32(buf, pos, sizes[wp++]); for (let i = 0; i < v.length; i++) { const x = v[i]; ${scalarWrite(t, 'x')} }`);
      }
      return guarded(f, `for (let i = 0; i < v.length; i++) { const x = v[i]; ${writeTag(f.number, wireOf(t))} ${scalarWrite(t, 'x')} }`);
    }
    case 'map': {
      const t = fn ? undefined : scalarOf(f);
      const value = fn ? `pos = writeVarint32(buf, pos, sizes[wp++]); pos = ${fn}(x, buf, pos);` : scalarWrite(t!, 'x');
      const valueTag = writeTag(2, t === undefined ? wireLen : wireOf(t));
      return guarded(
        f,
        `for (const k in v) { const x = v[k]; ${writeTag(f.number, wireLen)} pos = writeVarint32(buf, pos, sizes[wp++]); buf[pos++] = 10; pos = writeString(buf, pos, k); ${valueTag} ${value} }`,
      );
    }
  }
}

/** Scalar type of a scalar or enum field, list item or map value (enums are int32 on the wire). */
function scalarOf(f: DescField): ScalarType {
  switch (f.fieldKind) {
    case 'scalar':
      return f.scalar;
    case 'list':
      return f.listKind === 'scalar' ? f.scalar : ScalarType.INT32;
    case 'map':
      return f.mapKind === 'scalar' ? f.scalar : ScalarType.INT32;
    default:
      return ScalarType.INT32;
  }
}

/** Encoded size of scalar `x` of type `t`, without tag. */
function scalarSize(t: ScalarType, x: string): string {
  switch (t) {
    case ScalarType.STRING:
      return `stringBytes(${x})`;
    case ScalarType.BYTES:
      return `(varint32Bytes(${x}.byteLength) + ${x}.byteLength)`;
    case ScalarType.BOOL:
      return '1';
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return '8';
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return '4';
    case ScalarType.INT32:
      return `int32Bytes(${x})`;
    case ScalarType.UINT32:
      return `varint32Bytes(${x} >>> 0)`;
    case ScalarType.SINT32:
      return `varint32Bytes(((${x} << 1) ^ (${x} >> 31)) >>> 0)`;
    case ScalarType.SINT64:
      return `varint64Bytes(zigzag64(${x}))`;
    default:
      return `varint64Bytes(u64(${x}))`;
  }
}

/** Statement writing scalar `x` of type `t` at `pos` and advancing it. */
function scalarWrite(t: ScalarType, x: string): string {
  switch (t) {
    case ScalarType.STRING:
      return `pos = writeString(buf, pos, ${x});`;
    case ScalarType.BYTES:
      return `pos = writeBytes(buf, pos, ${x});`;
    case ScalarType.BOOL:
      return `buf[pos++] = ${x} ? 1 : 0;`;
    case ScalarType.DOUBLE:
      return `pos = writeDouble(buf, pos, ${x});`;
    case ScalarType.FLOAT:
      return `pos = writeFloat(buf, pos, ${x});`;
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return `pos = writeFixed32(buf, pos, ${x});`;
    case ScalarType.FIXED64:
      return `pos = writeFixed64(buf, pos, ${x});`;
    case ScalarType.SFIXED64:
      return `pos = writeSfixed64(buf, pos, ${x});`;
    case ScalarType.INT32:
      return `pos = writeInt32(buf, pos, ${x});`;
    case ScalarType.UINT32:
      return `pos = writeVarint32(buf, pos, ${x} >>> 0);`;
    case ScalarType.SINT32:
      return `pos = writeVarint32(buf, pos, ((${x} << 1) ^ (${x} >> 31)) >>> 0);`;
    case ScalarType.SINT64:
      return `pos = writeVarint64(buf, pos, zigzag64(${x}));`;
    default:
      return `pos = writeVarint64(buf, pos, u64(${x}));`;
  }
}

/** Statement writing a precomputed tag, byte by byte. */
function writeTag(no: number, wire: number): string {
  return tagBytes(no, wire)
    .map((b) => `buf[pos++] = ${int(b)};`)
    .join(' ');
}

/** A tag (field number and wire type) as varint bytes. */
function tagBytes(no: number, wire: number): number[] {
  const bytes: number[] = [];
  let v = ((no << 3) | wire) >>> 0;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return bytes;
}

/** Wire type of a scalar type, unpacked. */
export function wireOf(t: ScalarType): number {
  switch (t) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return wireLen;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return wireBit64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return wireBit32;
    default:
      return wireVarint;
  }
}
