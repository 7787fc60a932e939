import fc from 'fast-check';
import { checkKv, isLinearizableRegister, type Operation } from './linearizability';

const w = (client: number, value: number, call: number, ret: number): Operation => ({ client, key: 'k', kind: 'write', value, call, ret });
const r = (client: number, value: number | null, call: number, ret: number): Operation => ({ client, key: 'k', kind: 'read', value, call, ret });

describe('linearizability checker', () => {
  test('accepts sequential and overlapping histories that have a legal order', () => {
    expect(isLinearizableRegister([w(1, 1, 0, 1), r(2, 1, 2, 3)])).toBe(true);
    // The read overlaps the write, so it may see either value.
    expect(isLinearizableRegister([w(1, 1, 0, 10), r(2, null, 1, 2)])).toBe(true);
    expect(isLinearizableRegister([w(1, 1, 0, 10), r(2, 1, 1, 2)])).toBe(true);
    // Two overlapping writes, reads after both agree on the later one.
    expect(isLinearizableRegister([w(1, 1, 0, 5), w(2, 2, 1, 6), r(3, 1, 7, 8), r(3, 1, 9, 10)])).toBe(true);
    expect(isLinearizableRegister([])).toBe(true);
  });

  test('rejects stale reads and values that appear from nowhere', () => {
    // A completed write then a read of the old value: stale.
    expect(isLinearizableRegister([w(1, 1, 0, 1), r(2, null, 2, 3)])).toBe(false);
    // A value never written.
    expect(isLinearizableRegister([r(1, 7, 0, 1)])).toBe(false);
    // Reads flip back and forth between two completed writes.
    expect(isLinearizableRegister([w(1, 1, 0, 5), w(2, 2, 1, 6), r(3, 1, 7, 8), r(3, 2, 9, 10), r(3, 1, 11, 12)])).toBe(false);
    // A read sees a write, a later read does not (new-old inversion).
    expect(isLinearizableRegister([w(1, 1, 0, 100), r(2, 1, 1, 2), r(3, null, 3, 4)])).toBe(false);
  });

  test('an unknown-outcome write may or may not have happened', () => {
    expect(isLinearizableRegister([w(1, 1, 0, Infinity), r(2, null, 5, 6)])).toBe(true);
    expect(isLinearizableRegister([w(1, 1, 0, Infinity), r(2, 1, 5, 6)])).toBe(true);
    expect(isLinearizableRegister([w(1, 1, 0, Infinity), r(2, 1, 5, 6), r(2, null, 7, 8)])).toBe(false);
  });

  test('unknown-outcome writes that no read saw change nothing, however many', () => {
    // A partition leaves many writes unanswered; none of them may hide a stale read.
    const lost = Array.from({ length: 60 }, (_, i) => w(10 + i, 100 + i, i, Infinity));
    expect(isLinearizableRegister([w(1, 1, 0, 1), ...lost, r(2, 1, 70, 71)])).toBe(true);
    expect(isLinearizableRegister([w(1, 1, 0, 1), w(2, 2, 2, 3), ...lost, r(3, 1, 70, 71)])).toBe(false);
    // One of them seen, then unseen again: still a violation.
    expect(isLinearizableRegister([...lost, r(2, 130, 80, 81), r(2, null, 82, 83)])).toBe(false);
  });

  test('checks keys independently', () => {
    const a: Operation = { ...w(1, 1, 0, 1), key: 'a' };
    const b: Operation = { ...r(2, 1, 2, 3), key: 'b' };
    const result = checkKv([a, b]);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.key).toBe('b');
    expect(checkKv([a, { ...b, key: 'a' }]).ok).toBe(true);
  });

  test('agrees with brute force over all orders on small random histories', () => {
    const op = fc.record({
      kind: fc.constantFrom('read' as const, 'write' as const),
      value: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
      call: fc.integer({ min: 0, max: 10 }),
      len: fc.integer({ min: 1, max: 5 }),
      unknown: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 6 }), (raw) => {
        const ops: Operation[] = raw.map((o, i) => ({
          client: i,
          key: 'k',
          kind: o.kind,
          value: o.kind === 'write' ? (o.value ?? 1) : o.value,
          call: o.call,
          // Some writes never answer: their outcome is unknown.
          ret: o.kind === 'write' && o.unknown && o.len > 3 ? Infinity : o.call + o.len,
        }));
        expect(isLinearizableRegister(ops)).toBe(bruteForce(ops));
      }),
      { numRuns: 300 },
    );
  });
});

/** The obvious reference: try every permutation that respects real time. */
function bruteForce(ops: Operation[]): boolean {
  const used = new Array(ops.length).fill(false);
  const go = (done: number, state: number | null): boolean => {
    if (done === ops.length) return true;
    for (let i = 0; i < ops.length; i++) {
      if (used[i]) continue;
      // i may go next only if no unused op finished strictly before i started.
      if (ops.some((o, j) => !used[j] && j !== i && o.ret < ops[i].call)) continue;
      const o = ops[i];
      if (o.kind === 'read' && o.value !== state) continue;
      used[i] = true;
      if (go(done + 1, o.kind === 'write' ? o.value : state)) return true;
      used[i] = false;
    }
    return false;
  };
  return go(0, null);
}
