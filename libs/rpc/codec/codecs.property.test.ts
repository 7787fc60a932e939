import { fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { join } from 'node:path';
import { types as util } from 'node:util';
import { fastToBinary } from '../fast-binary';
import { fastFromBinary } from '../fast-from-binary';
import { isCovered } from './coverage';
import { allMessageTypes, randomMessage, Rng } from './random-message';
import { firstDifference } from './same-message';

/*
 * The generated codecs against protobuf-es, on random messages of every type
 * in libs/gen: the encoder must write the same bytes as `toBinary`, and the
 * decoder must build the same message as `fromBinary` from those bytes and
 * from corrupted copies of them, or throw where it throws.
 */

const types = allMessageTypes(join(__dirname, '../../gen'));

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

function attempt(f: () => unknown): Outcome {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Decodes with both decoders; returns what differs, if anything. */
function decodeDifference(desc: DescMessage, bytes: Uint8Array): string | undefined {
  const want = attempt(() => fromBinary(desc, bytes));
  const got = attempt(() => fastFromBinary(desc, bytes));
  if (!want.ok) return got.ok ? `fromBinary threw ${String(want.error)} but fastFromBinary returned` : util.isNativeError(got.error) ? undefined : 'threw a non-Error';
  if (!got.ok) return `fastFromBinary threw ${String(got.error)} but fromBinary returned`;
  return firstDifference(got.value, want.value);
}

/** A copy of `bytes` damaged in one of the ways a bad peer or disk would. */
function corrupt(bytes: Uint8Array, rng: Rng): Uint8Array {
  const b = Buffer.from(bytes);
  const at = rng.int(b.length + 1);
  switch (rng.int(5)) {
    case 0:
      return b.subarray(0, at); // truncated
    case 1:
      if (b.length > 0) b[at % b.length] ^= 1 << rng.int(8); // a flipped bit
      return b;
    case 2:
      if (b.length > 0) b[at % b.length] = rng.pick([0x80, 0xff, 0x07, 0x0f, 0x00, 0x0b]); // bad varint, tag or wire type
      return b;
    case 3:
      return Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + rng.int(12) }, () => rng.int(256))), b.subarray(at)]);
    default:
      return Buffer.concat([b, b]); // every field twice: repeated fields append, messages merge
  }
}

describe('generated codecs on every message type', () => {
  it('cover the types the coordinator uses', () => {
    expect(types.length).toBeGreaterThan(50);
    const names = types.filter(isCovered).map((t) => t.typeName);
    for (const n of ['dtf.worker.v1.ConnectRequest', 'dtf.worker.v1.ConnectResponse', 'dtf.state.v1.Command', 'dtf.result.v1.TailEventsResponse', 'dtf.raft.v1.Message']) expect(names).toContain(n);
  });

  it('encode as toBinary and decode as fromBinary', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const rng = new Rng(seed);
        for (const desc of types) {
          const m = randomMessage(desc, rng) as MessageShape<DescMessage>;
          const want = toBinary(desc, m);
          const got = fastToBinary(desc, m);
          if (Buffer.compare(got, want) !== 0) expect(`${desc.typeName}: ${Buffer.from(got).toString('hex')}`).toBe(`${desc.typeName}: ${Buffer.from(want).toString('hex')}`);
          const difference = decodeDifference(desc, want);
          if (difference) throw new Error(`${desc.typeName} from ${Buffer.from(want).toString('hex')}: ${difference}`);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('decode corrupted input as fromBinary does, or throw an Error where it throws', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const rng = new Rng(seed);
        for (const desc of types) {
          const bytes = toBinary(desc, randomMessage(desc, rng) as MessageShape<DescMessage>);
          for (let i = 0; i < 4; i++) {
            const bad = corrupt(bytes, rng);
            const difference = decodeDifference(desc, bad);
            if (difference) throw new Error(`${desc.typeName} from ${Buffer.from(bad).toString('hex')}: ${difference}`);
          }
        }
      }),
      { numRuns: 25 },
    );
  });
});
