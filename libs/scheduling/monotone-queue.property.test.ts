/**
 * Property test of MonotoneQueue against a sorted list: any mix of in-order
 * and out-of-order pushes, removals anywhere, pops and re-queued items gives
 * the same head, size, membership and contents as the reference.
 *
 * Seeded: `FC_SEED=n` replays a run (default 424242).
 */
import fc from 'fast-check';
import { MonotoneQueue } from './monotone-queue';

const seed = Number(process.env.FC_SEED ?? 424242);

interface Item {
  id: number;
  key: number;
  pos: number;
}

const less = (a: Item, b: Item) => a.key < b.key || (a.key === b.key && a.id < b.id);

type Op =
  | { op: 'push'; id: number; ahead: number }
  | { op: 'remove'; id: number }
  | { op: 'pop' };

/** `ahead` is added to the newest key: ≥ 0 keeps order, < 0 jumps back (a retry). */
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('push' as const), id: fc.nat(15), ahead: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 3 }) }, fc.integer({ min: -40, max: -1 })) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('remove' as const), id: fc.nat(15) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('pop' as const) }) },
);

function check(ops: Op[]): void {
  const q = new MonotoneQueue<Item>(less, 'pos');
  const items = new Map<number, Item>();
  const ref: Item[] = [];
  let newest = 0;
  for (const o of ops) {
    if (o.op === 'push') {
      let it = items.get(o.id);
      if (!it) items.set(o.id, (it = { id: o.id, key: 0, pos: -1 }));
      if (ref.includes(it)) continue;
      newest = Math.max(0, newest + o.ahead);
      it.key = newest;
      q.push(it);
      ref.push(it);
    } else if (o.op === 'remove') {
      const it = items.get(o.id);
      if (!it) continue;
      const at = ref.indexOf(it);
      expect(q.remove(it)).toBe(at >= 0);
      if (at >= 0) ref.splice(at, 1);
    } else {
      ref.sort((a, b) => (less(a, b) ? -1 : 1));
      expect(q.pop()).toBe(ref.shift());
    }
    ref.sort((a, b) => (less(a, b) ? -1 : 1));
    // Plain comparisons first: expect() on every step would dominate the run time.
    const values = new Set(q.values());
    const agrees = q.size === ref.length && q.peek() === ref[0] && values.size === ref.length &&
      ref.every((it) => values.has(it)) && [...items.values()].every((it) => q.has(it) === ref.includes(it));
    if (!agrees) {
      expect({ size: q.size, head: q.peek(), values: [...values] }).toEqual({ size: ref.length, head: ref[0], values: ref });
      throw new Error(`membership differs: ${[...items.values()].filter((it) => q.has(it) !== ref.includes(it)).map((it) => it.id).join(', ')}`);
    }
  }
}

describe('MonotoneQueue', () => {
  it('agrees with a sorted list under any pushes, removals and pops', () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 20, maxLength: 150, size: 'max' }), check), { seed, numRuns: 300 });
  });

  it('sends a push behind the last live item, not behind a hole, to the heap when it is out of order', () => {
    const q = new MonotoneQueue<Item>(less, 'pos');
    const [a, b, c] = [10, 20, 30].map((key, id) => ({ id, key, pos: -1 }));
    for (const it of [a, b, c]) q.push(it);
    q.remove(b);
    q.remove(c);
    const d = { id: 3, key: 5, pos: -1 };
    q.push(d);
    expect(q.pop()).toBe(d);
    expect(q.pop()).toBe(a);
    expect(q.size).toBe(0);
  });

  it('keeps positions right across compaction of a long FIFO', () => {
    const q = new MonotoneQueue<Item>(less, 'pos');
    const all = Array.from({ length: 5000 }, (_, i) => ({ id: i, key: i, pos: -1 }));
    for (const it of all) q.push(it);
    // Take the first 3,000 from the front (compacts), then remove from the middle and end.
    for (let i = 0; i < 3000; i++) expect(q.pop()).toBe(all[i]);
    expect(q.remove(all[4000])).toBe(true);
    expect(q.remove(all[4999])).toBe(true);
    expect(q.remove(all[10])).toBe(false);
    expect(q.has(all[3001])).toBe(true);
    expect(q.size).toBe(1998);
    expect(q.peek()).toBe(all[3000]);
    // An out-of-order push goes ahead of everything left.
    const early = { id: -1, key: -1, pos: -1 };
    q.push(early);
    expect(q.pop()).toBe(early);
    expect(q.pop()).toBe(all[3000]);
  });
});
