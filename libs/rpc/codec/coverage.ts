import { ScalarType, protoInt64, type DescField, type DescMessage } from '@bufbuild/protobuf';

/*
 * Which message types the generated codecs handle. Everything else goes to
 * protobuf-es, whose reflection handles every feature; the generated code only
 * has to be right for the plain proto3 shapes our protocols use.
 */

/** Edition number protobuf-es gives a file declared `syntax = "proto3"`. */
const editionProto3 = 999;

/** Coverage by message type, so each type's graph is walked once. */
const verdicts = new WeakMap<DescMessage, boolean>();

/**
 * True when `desc` and every message type it reaches can be encoded and
 * decoded by generated code: proto3 files only (open enums, no groups, no
 * default values, no prototype-chain presence), string map keys, 64-bit
 * integers as bigint, no well-known types with a special representation
 * (wrappers, Struct, Value, Any…).
 */
export function isCovered(desc: DescMessage): boolean {
  const known = verdicts.get(desc);
  if (known !== undefined) return known;
  // Checked as a whole over the type graph, so that no codec is ever built
  // that reaches an uncovered type through a cycle.
  const seen = new Set<DescMessage>();
  const ok = protoInt64.supported && graphCovered(desc, seen);
  if (ok) for (const d of seen) verdicts.set(d, true);
  verdicts.set(desc, ok);
  return ok;
}

function graphCovered(desc: DescMessage, seen: Set<DescMessage>): boolean {
  if (seen.has(desc) || verdicts.get(desc) === true) return true;
  if (verdicts.get(desc) === false) return false;
  seen.add(desc);
  if (desc.file.edition !== editionProto3 || isSpecialWellKnown(desc)) return false;
  return desc.fields.every((f) => fieldCovered(f) && (nestedMessage(f) === undefined || graphCovered(nestedMessage(f)!, seen)));
}

function fieldCovered(f: DescField): boolean {
  if (f.fieldKind === 'map' && f.mapKey !== ScalarType.STRING) return false;
  if ('longAsString' in f && f.longAsString) return false;
  if ('delimitedEncoding' in f && f.delimitedEncoding) return false;
  if (f.fieldKind === 'enum' || (f.fieldKind === 'list' && f.listKind === 'enum') || (f.fieldKind === 'map' && f.mapKind === 'enum')) return f.enum!.open;
  return true;
}

/** The message type a field holds (singular, list item or map value), if any. */
export function nestedMessage(f: DescField): DescMessage | undefined {
  switch (f.fieldKind) {
    case 'message':
      return f.message;
    case 'list':
      return f.listKind === 'message' ? f.message : undefined;
    case 'map':
      return f.mapKind === 'message' ? f.message : undefined;
    default:
      return undefined;
  }
}

/** Well-known types that protobuf-es represents as something other than a message object. */
function isSpecialWellKnown(desc: DescMessage): boolean {
  return desc.typeName.startsWith('google.protobuf.') && desc.typeName !== 'google.protobuf.Timestamp' && desc.typeName !== 'google.protobuf.Duration' && desc.typeName !== 'google.protobuf.Empty';
}

/** Every message type reachable from `root`, root first; each gets its index in the generated source. */
export function reachable(root: DescMessage): DescMessage[] {
  const order: DescMessage[] = [root];
  const index = new Map<DescMessage, number>([[root, 0]]);
  for (let i = 0; i < order.length; i++) {
    for (const f of order[i].fields) {
      const m = nestedMessage(f);
      if (m && !index.has(m)) {
        index.set(m, order.length);
        order.push(m);
      }
    }
  }
  return order;
}

/** Fields in number order, the order `toBinary` writes them in. */
export function fieldsByNumber(desc: DescMessage): DescField[] {
  return [...desc.fields].sort((a, b) => a.number - b.number);
}
