import { ScalarType, create, type DescField, type DescFile, type DescMessage, type Message } from '@bufbuild/protobuf';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/*
 * Random messages of any type, built from its descriptor, for the codecs'
 * property tests: every field kind, zero and extreme values, non-ASCII and
 * invalid (lone surrogate) strings, absent and present optional fields, oneof
 * cases, unknown fields. Test support only.
 */

/** A seeded generator (mulberry32), so a failure replays from its seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  u32(): number {
    return (this.next() * 4294967296) >>> 0;
  }
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
}

/** Every message type declared in the generated files under `genDir`, nested ones included. */
export function allMessageTypes(genDir: string): DescMessage[] {
  const out: DescMessage[] = [];
  const add = (m: DescMessage) => {
    out.push(m);
    m.nestedMessages.forEach(add);
  };
  for (const file of generatedFiles(genDir)) file.messages.forEach(add);
  return out;
}

function generatedFiles(dir: string): DescFile[] {
  const files: DescFile[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...generatedFiles(path));
    else if (entry.name.endsWith('_pb.ts')) {
      const mod = require(path) as Record<string, unknown>;
      for (const v of Object.values(mod)) if (isFile(v)) files.push(v);
    }
  }
  return files;
}

function isFile(v: unknown): v is DescFile {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'file';
}

const words = ['', 'a', 'job-000123-t42', 'ünïcode ✓', '😀', 'x'.repeat(130), 'y'.repeat(21), '\ud800', 'tab\tnew\nline', '0'];

/** A random message of type `desc`; nested messages thin out with `depth`. */
export function randomMessage(desc: DescMessage, rng: Rng, depth = 0): Message {
  const m = create(desc) as unknown as Record<string, unknown>;
  for (const f of desc.fields) {
    if (f.oneof) continue;
    if (f.fieldKind === 'message') {
      if (depth < 4 && rng.chance(0.6 / (depth + 1))) m[f.localName] = randomMessage(f.message, rng, depth + 1);
      continue;
    }
    if (rng.chance(0.3)) continue; // left at its zero value (or absent when optional)
    m[f.localName] = randomField(f, rng, depth);
  }
  for (const o of desc.oneofs) {
    if (rng.chance(0.3)) continue;
    const f = rng.pick(o.fields);
    if (f.fieldKind === 'message' && depth >= 4) continue;
    m[o.localName] = { case: f.localName, value: f.fieldKind === 'message' ? randomMessage(f.message, rng, depth + 1) : randomField(f, rng, depth) };
  }
  if (rng.chance(0.1)) m.$unknown = [{ no: 1000 + rng.int(1000), wireType: 0, data: new Uint8Array([rng.int(128)]) }, { no: 536870911, wireType: 2, data: new Uint8Array([2, 0xff, 0]) }];
  return m as unknown as Message;
}

function randomField(f: DescField, rng: Rng, depth: number): unknown {
  switch (f.fieldKind) {
    case 'scalar':
      return randomScalar(f.scalar, rng);
    case 'enum':
      return rng.chance(0.9) ? rng.pick(f.enum.values).number : rng.u32() | 0;
    case 'message':
      return randomMessage(f.message, rng, depth + 1);
    case 'list': {
      const n = rng.pick([0, 1, 2, 5]);
      return Array.from({ length: n }, () =>
        f.listKind === 'message' ? randomMessage(f.message, rng, depth + 1) : f.listKind === 'enum' ? rng.pick(f.enum.values).number : randomScalar(f.scalar, rng),
      );
    }
    case 'map': {
      const map: Record<string, unknown> = {};
      for (let i = rng.pick([0, 1, 3]); i > 0; i--) {
        const value = f.mapKind === 'message' ? randomMessage(f.message, rng, depth + 1) : f.mapKind === 'enum' ? rng.pick(f.enum.values).number : randomScalar(f.scalar, rng);
        map[String(randomScalar(f.mapKey, rng))] = value;
      }
      return map;
    }
  }
}

function randomScalar(t: ScalarType, rng: Rng): unknown {
  switch (t) {
    case ScalarType.STRING:
      return rng.chance(0.7) ? rng.pick(words) : String.fromCharCode(...Array.from({ length: rng.int(40) }, () => rng.int(rng.chance(0.8) ? 0x80 : 0xd7ff)));
    case ScalarType.BYTES:
      return new Uint8Array(Array.from({ length: rng.pick([0, 1, 7, 200]) }, () => rng.int(256)));
    case ScalarType.BOOL:
      return rng.chance(0.5);
    case ScalarType.DOUBLE:
      return rng.pick([0, -0, 1.5, -2.25e-300, 1e300, Infinity, -Infinity, rng.next() * 1e6 - 5e5]);
    case ScalarType.FLOAT:
      return Math.fround(rng.pick([0, -0, 1.5, -3.4e38, 1e-40, rng.next() * 1000]));
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return rng.pick([0, 1, -1, 127, 128, 2147483647, -2147483648, rng.u32() | 0]);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return rng.pick([0, 1, 127, 128, 16384, 4294967295, rng.u32()]);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return rng.pick([0n, 1n, -1n, 2n ** 53n, -(2n ** 53n) - 1n, 2n ** 63n - 1n, -(2n ** 63n), BigInt.asIntN(64, rng.u64()), BigInt(rng.u32())]);
    default:
      return rng.pick([0n, 1n, 127n, 128n, 2n ** 32n, 2n ** 35n, 2n ** 53n + 1n, 2n ** 64n - 1n, rng.u64(), BigInt(rng.u32())]);
  }
}
