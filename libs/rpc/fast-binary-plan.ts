import { ScalarType, type DescField, type DescMessage } from '@bufbuild/protobuf';

/*
 * How fast-binary.ts encodes each message type: a plan built once per type
 * from its descriptor, so encoding reads plain properties instead of going
 * through protobuf-es's reflection for every field of every message.
 */

const wireVarint = 0;
const wireBit64 = 1;
const wireLen = 2;
const wireBit32 = 5;

/** A message as its generated type's plain object. */
export type AnyMessage = Record<string, unknown>;

/** How one field is encoded; fields sit in number order, as `toBinary` writes them. */
export interface FieldPlan {
  localName: string;
  /** The oneof's property name when the field is a oneof member. */
  oneof: string | undefined;
  kind: 'scalar' | 'message' | 'list' | 'map';
  /** Scalar type of a scalar, enum, list item or map value. */
  scalar: ScalarType;
  /** Plan of a message field, list item or map value (shared, so recursive types work). */
  message: MessagePlan | undefined;
  /** True for singular fields with explicit presence (proto3 `optional`, messages). */
  explicit: boolean;
  packed: boolean;
  /** The precomputed tag bytes: field number and wire type. */
  tag: number;
  tagBytes: number;
  /** For map fields: the value's wire type (the key is always a string here). */
  valueTag: number;
}

export interface MessagePlan {
  fields: FieldPlan[];
}

/** Plans by message type; null marks a type that `toBinary` must encode. */
const plans = new WeakMap<DescMessage, MessagePlan | null>();

/** The plan for `desc`, or undefined when a type it uses is not covered. */
export function planOf(desc: DescMessage): MessagePlan | undefined {
  const known = plans.get(desc);
  if (known !== undefined) return known ?? undefined;
  // Checked first and as a whole, so that no plan is ever built that reaches
  // an uncovered type through a cycle.
  if (!covered(desc, new Set())) {
    plans.set(desc, null);
    return undefined;
  }
  const plan: MessagePlan = { fields: [] };
  // Registered before the fields so that recursive types find it.
  plans.set(desc, plan);
  for (const f of [...desc.fields].sort((a, b) => a.number - b.number)) {
    const fp = fieldPlan(f);
    if (!fp) {
      plans.set(desc, null);
      return undefined;
    }
    plan.fields.push(fp);
  }
  return plan;
}

/** True when every field of `desc` and of every message type it reaches can be planned. */
function covered(desc: DescMessage, seen: Set<DescMessage>): boolean {
  if (seen.has(desc) || plans.get(desc)) return true;
  if (plans.get(desc) === null) return false;
  seen.add(desc);
  return desc.fields.every((f) => {
    if (f.fieldKind === 'map' && f.mapKey !== ScalarType.STRING) return false;
    const message = f.fieldKind === 'message' || (f.fieldKind === 'list' && f.listKind === 'message') || (f.fieldKind === 'map' && f.mapKind === 'message') ? f.message : undefined;
    if (!message) return true;
    const delimited = 'delimitedEncoding' in f && f.delimitedEncoding;
    return !delimited && !isSpecialWellKnown(message) && covered(message, seen);
  });
}

function fieldPlan(f: DescField): FieldPlan | undefined {
  const base = { localName: f.localName, oneof: f.oneof?.localName, message: undefined, packed: false, valueTag: 0 };
  const tagged = (wire: number) => ({ tag: (f.number << 3) | wire, tagBytes: tagLength((f.number << 3) | wire) });
  switch (f.fieldKind) {
    case 'scalar':
      return { ...base, ...tagged(wireOf(f.scalar)), kind: 'scalar', scalar: f.scalar, explicit: f.presence !== implicitPresence || f.oneof !== undefined };
    case 'enum':
      return { ...base, ...tagged(wireVarint), kind: 'scalar', scalar: ScalarType.INT32, explicit: f.presence !== implicitPresence || f.oneof !== undefined };
    case 'message': {
      if (f.delimitedEncoding || isSpecialWellKnown(f.message)) return undefined;
      const message = planOf(f.message);
      return message && { ...base, ...tagged(wireLen), kind: 'message', scalar: ScalarType.INT32, explicit: true, message };
    }
    case 'list': {
      if (f.listKind === 'message') {
        if (f.delimitedEncoding || isSpecialWellKnown(f.message)) return undefined;
        const message = planOf(f.message);
        return message && { ...base, ...tagged(wireLen), kind: 'list', scalar: ScalarType.INT32, explicit: false, message };
      }
      const scalar = f.listKind === 'enum' ? ScalarType.INT32 : f.scalar;
      return { ...base, ...tagged(f.packed ? wireLen : wireOf(scalar)), kind: 'list', scalar, explicit: false, packed: f.packed };
    }
    case 'map': {
      if (f.mapKey !== ScalarType.STRING) return undefined;
      if (f.mapKind === 'message') {
        if (isSpecialWellKnown(f.message)) return undefined;
        const message = planOf(f.message);
        return message && { ...base, ...tagged(wireLen), kind: 'map', scalar: ScalarType.INT32, explicit: false, message, valueTag: (2 << 3) | wireLen };
      }
      const scalar = f.mapKind === 'enum' ? ScalarType.INT32 : f.scalar;
      return { ...base, ...tagged(wireLen), kind: 'map', scalar, explicit: false, valueTag: (2 << 3) | wireOf(scalar) };
    }
    default:
      return undefined;
  }
}

/** FeatureSet.FieldPresence.IMPLICIT: proto3 singular fields without `optional`. */
const implicitPresence = 2;

/** Well-known types that protobuf-es represents as something other than a message object. */
function isSpecialWellKnown(desc: DescMessage): boolean {
  return desc.typeName.startsWith('google.protobuf.') && desc.typeName !== 'google.protobuf.Timestamp' && desc.typeName !== 'google.protobuf.Duration' && desc.typeName !== 'google.protobuf.Empty';
}

function wireOf(t: ScalarType): number {
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

/** Bytes of a tag (field number and wire type) as a varint. */
function tagLength(tag: number): number {
  let n = 1;
  for (let v = tag >>> 7; v > 0; v >>>= 7) n++;
  return n;
}
