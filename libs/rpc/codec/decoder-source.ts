import { ScalarType, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { nestedMessage, reachable } from './coverage';
import { int, key, member, str } from './source';

/*
 * Source of a decoder for one message type and every type it reaches: per
 * type a zero-message factory `z<i>()` (an object literal, so every decoded
 * message of a type shares one hidden class) and a decode function
 * `d<i>(r, end, depth, m)` with a switch on the field number. It follows
 * protobuf-es's `fromBinary` step for step, so that both build equal messages
 * from the same bytes and fail on the same malformed ones: the wire type is
 * only consulted to tell packed from unpacked lists, a repeated singular
 * message is merged into the first, map entries read fields 1 and 2 and
 * nothing else, unknown fields are kept in `$unknown`, and nesting past
 * `recursionLimit` throws.
 */

/** protobuf-es's default read recursion limit. */
const recursionLimit = 100;

/** FeatureSet.FieldPresence.IMPLICIT: proto3 singular fields without `optional`. */
const implicitPresence = 2;

/** The body of a function of `WireReader` that returns `decode(bytes)`. */
export function decoderSource(root: DescMessage): string {
  const types = reachable(root);
  const index = new Map(types.map((t, i) => [t, i]));
  const out: string[] = [];
  types.forEach((t, i) => out.push(zeroFunction(t, i), decodeFunction(t, i, index)));
  out.push(`return function decode(bytes) {
  return d0(new WireReader(bytes), bytes.byteLength, 1, undefined);
};`);
  return out.join('\n');
}

type Index = Map<DescMessage, number>;

/** The zero message as protobuf-es's `create()` builds it for a proto3 type: implicit fields and oneofs, in member order. */
function zeroFunction(desc: DescMessage, i: number): string {
  const props = [`$typeName: ${str(desc.typeName)}`];
  for (const member of desc.members) {
    if (member.kind === 'oneof') props.push(`${key(member.localName)}: { case: undefined }`);
    else if (member.presence === implicitPresence) props.push(`${key(member.localName)}: ${zeroValue(member)}`);
  }
  return `function z${i}() {\n  return { ${props.join(', ')} };\n}`;
}

function zeroValue(f: DescField): string {
  switch (f.fieldKind) {
    case 'list':
      return '[]';
    case 'map':
      return '{}';
    case 'enum':
      return signedInt(f.enum.values[0].number);
    case 'scalar':
      return scalarZero(f.scalar);
    default:
      throw new Error(`codec source: ${f.toString()} is a message field with implicit presence`);
  }
}

function scalarZero(t: ScalarType): string {
  switch (t) {
    case ScalarType.STRING:
      return "''";
    case ScalarType.BOOL:
      return 'false';
    case ScalarType.BYTES:
      return 'new Uint8Array(0)';
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return '0n';
    default:
      return '0';
  }
}

function signedInt(n: number): string {
  return n < 0 ? `-${int(-n)}` : int(n);
}

function decodeFunction(desc: DescMessage, i: number, index: Index): string {
  const cases = desc.fields.map((f) => `      case ${int(f.number)}: {\n        ${readField(f, index)}\n        break;\n      }`);
  return `function d${i}(r, end, depth, m) {
  if (depth > ${int(recursionLimit)}) throw new Error(${str(`cannot decode message ${desc.typeName} from binary: maximum recursion depth of ${recursionLimit} reached`)});
  if (m === undefined) m = z${i}();
  let unknown = m.$unknown;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
${cases.join('\n')}
      default: {
        const data = r.skip(tag & 7, tag >>> 3, ${int(recursionLimit)} - depth);
        if (unknown === undefined) unknown = [];
        unknown.push({ no: tag >>> 3, wireType: tag & 7, data });
      }
    }
  }
  if (unknown !== undefined && unknown.length > 0) m.$unknown = unknown;
  return m;
}`;
}

/** Statements reading one occurrence of field `f` into `m`, as protobuf-es's readField does. */
function readField(f: DescField, index: Index): string {
  const nested = nestedMessage(f);
  const d = nested && `d${int(index.get(nested)!)}`;
  const prop = member('m', f.localName);
  const set = (value: string) => (f.oneof ? `${member('m', f.oneof.localName)} = { case: ${str(f.localName)}, value: ${value} };` : `${prop} = ${value};`);
  switch (f.fieldKind) {
    case 'scalar':
      return set(readScalar(f.scalar, f));
    case 'enum':
      return set('r.int32()');
    case 'message': {
      // A message seen twice is merged, as protobuf-es merges it.
      const current = f.oneof ? `(o.case === ${str(f.localName)} ? o.value : undefined)` : prop;
      const o = f.oneof ? `const o = ${member('m', f.oneof.localName)}; ` : '';
      return `${o}const n = r.uint32(); ${set(`${d}(r, r.pos + n, depth + 1, ${current})`)}`;
    }
    case 'list': {
      if (f.listKind === 'message') return `const n = r.uint32(); ${prop}.push(${d}(r, r.pos + n, depth + 1, undefined));`;
      const t = f.listKind === 'enum' ? ScalarType.INT32 : f.scalar!;
      const read = readScalar(t, f);
      if (t === ScalarType.STRING || t === ScalarType.BYTES) return `${prop}.push(${read});`;
      return `const l = ${prop}; if ((tag & 7) === 2) { const e = r.uint32() + r.pos; while (r.pos < e) l.push(${read}); } else l.push(${read});`;
    }
    case 'map': {
      let value: string;
      let zero: string;
      switch (f.mapKind) {
        case 'message':
          value = `{ const n2 = r.uint32(); v = ${d}(r, r.pos + n2, depth + 1, undefined); }`;
          zero = `z${int(index.get(f.message)!)}()`;
          break;
        case 'enum':
          value = 'v = r.int32();';
          zero = signedInt(f.enum.values[0].number);
          break;
        case 'scalar':
          value = `v = ${readScalar(f.scalar, f)};`;
          zero = scalarZero(f.scalar);
          break;
      }
      return [
        `const map = ${prop}; const n = r.uint32(); const e = r.pos + n; let k, v;`,
        `while (r.pos < e) { const t = r.tag(); switch (t >>> 3) { case 1: k = r.string(${f.utf8Validation ? 'true' : 'false'}); break; case 2: ${value} break; } }`,
        `map[k === undefined ? '' : k] = v === undefined ? ${zero} : v;`,
      ].join('\n        ');
    }
  }
}

function readScalar(t: ScalarType, f: DescField): string {
  switch (t) {
    case ScalarType.STRING:
      return `r.string(${'utf8Validation' in f && f.utf8Validation ? 'true' : 'false'})`;
    case ScalarType.BOOL:
      return 'r.bool()';
    case ScalarType.DOUBLE:
      return 'r.double()';
    case ScalarType.FLOAT:
      return 'r.float()';
    case ScalarType.INT32:
      return 'r.int32()';
    case ScalarType.INT64:
      return 'r.int64()';
    case ScalarType.UINT64:
      return 'r.uint64()';
    case ScalarType.FIXED64:
      return 'r.fixed64()';
    case ScalarType.BYTES:
      return 'r.bytes()';
    case ScalarType.FIXED32:
      return 'r.fixed32()';
    case ScalarType.SFIXED32:
      return 'r.sfixed32()';
    case ScalarType.SFIXED64:
      return 'r.sfixed64()';
    case ScalarType.SINT64:
      return 'r.sint64()';
    case ScalarType.UINT32:
      return 'r.uint32()';
    case ScalarType.SINT32:
      return 'r.sint32()';
  }
}
