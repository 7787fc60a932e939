import { create } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { TaskSchema, type Task } from '../gen/dtf/common/v1/common_pb';
import { PendingQueue } from './pending-queue';

const seed = Number(process.env.FC_SEED ?? 424242);

function task(id: string, priority?: number): Task {
  return create(TaskSchema, { id, spec: priority === undefined ? undefined : { name: id, priority } });
}

function ids(q: PendingQueue): string[] {
  return [...q.inOrder()].map((t) => t.id);
}

describe('PendingQueue', () => {
  it('orders by priority, highest first, then first in first out', () => {
    const q = new PendingQueue();
    q.add(task('low-1', -5));
    q.add(task('mid-1', 0));
    q.add(task('high-1', 10));
    q.add(task('none-1'));
    q.add(task('mid-2', 0));
    q.add(task('high-2', 10));
    q.add(task('low-2', -5));
    expect(ids(q)).toEqual(['high-1', 'high-2', 'mid-1', 'none-1', 'mid-2', 'low-1', 'low-2']);
    expect(q.size).toBe(7);
  });

  it('removes a task wherever it is, ignores unknown ones and duplicate adds', () => {
    const q = new PendingQueue();
    const a = task('a', 1);
    const b = task('b', 1);
    const c = task('c', 2);
    q.add(a);
    q.add(b);
    q.add(c);
    q.add(a);
    expect(q.size).toBe(3);
    q.remove(a);
    q.remove(task('ghost', 1));
    q.remove(task('b', 7));
    expect(ids(q)).toEqual(['c', 'b']);
    expect(q.size).toBe(2);
    // Re-added after removal, a task goes to the back of its priority.
    q.add(a);
    expect(ids(q)).toEqual(['c', 'b', 'a']);
    q.remove(c);
    q.remove(b);
    q.remove(a);
    expect(ids(q)).toEqual([]);
    expect(q.size).toBe(0);
  });

  it('matches a naive sorted array under random adds and removes', () => {
    type Op = { add: boolean; id: number; priority: number };
    const opArb = fc.record({ add: fc.boolean(), id: fc.nat(15), priority: fc.integer({ min: -3, max: 3 }) });
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), (ops: Op[]) => {
        const q = new PendingQueue();
        // The reference: every queued task with the time it was queued.
        let naive: { id: string; priority: number; seq: number }[] = [];
        const tasks = new Map<string, Task>();
        ops.forEach((op, seq) => {
          const id = `t${op.id}`;
          if (op.add) {
            // A task keeps its priority for life, as in the state machine.
            const t = tasks.get(id) ?? task(id, op.priority);
            tasks.set(id, t);
            q.add(t);
            if (!naive.some((n) => n.id === id)) naive.push({ id, priority: t.spec!.priority, seq });
          } else {
            const t = tasks.get(id);
            if (!t) return;
            q.remove(t);
            naive = naive.filter((n) => n.id !== id);
          }
          const expected = [...naive].sort((x, y) => y.priority - x.priority || x.seq - y.seq).map((n) => n.id);
          expect(ids(q)).toEqual(expected);
          expect(q.size).toBe(expected.length);
        });
      }),
      { seed, numRuns: 300 },
    );
  });
});
