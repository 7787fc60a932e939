import fc from 'fast-check';
import { DeviceKind, WorkerState, type Task } from '../gen/dtf/common/v1/common_pb';
import { placeTasks, requirementClass, type Candidate, type Placement } from './place-tasks';
import { GiB, naiveFeasible, requirementsArb, task, worker, workerInitArb } from './test-workers';

const seed = Number(process.env.FC_SEED ?? 424242);
const { CPU, CUDA } = DeviceKind;

function placed(ps: Placement[]): [string, string][] {
  return ps.map((p) => [p.task.id, p.workerId]);
}

/**
 * The obvious scheduler: for each task in order, ask every worker afresh
 * whether it can run it and has credit left, and take the one with the most
 * credit left (the first such on a tie).
 */
function naivePlace(pending: Task[], candidates: Candidate[]): [string, string][] {
  const left = candidates.map((c) => Math.max(0, c.credits));
  const out: [string, string][] = [];
  for (const t of pending) {
    let best = -1;
    candidates.forEach((c, i) => {
      if (left[i]! > 0 && naiveFeasible(t.spec?.requirements, c.worker) && (best < 0 || left[i]! > left[best]!)) best = i;
    });
    if (best < 0) continue;
    left[best]!--;
    out.push([t.id, candidates[best]!.worker.id]);
  }
  return out;
}

describe('placeTasks', () => {
  const cpuBox = worker({ id: 'cpu', devices: [[CPU, 0n]] });
  const gpuBox = worker({ id: 'gpu', devices: [[CPU, 0n], [CUDA, 80n * GiB]] });

  it('never places a cuda task on a cpu-only worker, and does not let it block the queue', () => {
    const tasks = [task('cuda-1', { anyOf: [CUDA] }), task('plain-1'), task('cuda-2', { anyOf: [CUDA] }), task('plain-2')];
    expect(placed(placeTasks(tasks, [{ worker: cpuBox, credits: 4 }]))).toEqual([['plain-1', 'cpu'], ['plain-2', 'cpu']]);
    expect(placed(placeTasks(tasks, [{ worker: cpuBox, credits: 4 }, { worker: gpuBox, credits: 1 }]))).toEqual([
      ['cuda-1', 'gpu'],
      ['plain-1', 'cpu'],
      ['plain-2', 'cpu'],
    ]);
  });

  it('never exceeds credits and spreads load to the worker with the most credit left', () => {
    const a = worker({ id: 'a' });
    const b = worker({ id: 'b' });
    const tasks = ['t1', 't2', 't3', 't4', 't5', 't6', 't7'].map((id) => task(id));
    const ps = placeTasks(tasks, [{ worker: a, credits: 2 }, { worker: b, credits: 3 }]);
    expect(placed(ps)).toEqual([['t1', 'b'], ['t2', 'a'], ['t3', 'b'], ['t4', 'a'], ['t5', 'b']]);
    expect(placeTasks(tasks, [{ worker: a, credits: 0 }, { worker: b, credits: -2 }])).toEqual([]);
    expect(placeTasks([], [{ worker: a, credits: 2 }])).toEqual([]);
  });

  it('does not consume the caller\'s candidates', () => {
    const cands = [{ worker: worker({ id: 'a' }), credits: 2 }];
    placeTasks([task('t1'), task('t2')], cands);
    expect(cands[0]!.credits).toBe(2);
  });

  it('gives nothing to cordoned, draining, lost or left workers', () => {
    const cands = [
      { worker: worker({ id: 'c', cordoned: true }), credits: 5 },
      { worker: worker({ id: 'd', draining: true }), credits: 5 },
      { worker: worker({ id: 'l', state: WorkerState.LOST }), credits: 5 },
      { worker: worker({ id: 'x', state: WorkerState.LEFT }), credits: 5 },
    ];
    expect(placeTasks([task('t1'), task('t2')], cands)).toEqual([]);
  });

  it('keeps tasks of different requirements apart even when it caches feasibility', () => {
    const linux = worker({ id: 'linux', labels: { os: 'linux' } });
    const mac = worker({ id: 'mac', labels: { os: 'mac' } });
    const tasks = [task('l1', { labels: { os: 'linux' } }), task('m1', { labels: { os: 'mac' } }), task('l2', { labels: { os: 'linux' } }), task('m2', { labels: { os: 'mac' } })];
    expect(placed(placeTasks(tasks, [{ worker: linux, credits: 5 }, { worker: mac, credits: 5 }]))).toEqual([
      ['l1', 'linux'], ['m1', 'mac'], ['l2', 'linux'], ['m2', 'mac'],
    ]);
    expect(requirementClass(task('a', { labels: { x: '1', y: '2' } }))).toBe(requirementClass(task('b', { labels: { y: '2', x: '1' } })));
    expect(requirementClass(task('a', { labels: { x: '1' } }))).not.toBe(requirementClass(task('b', { labels: { x: '2' } })));
    expect(requirementClass(task('a', { deviceMemoryMinBytes: 1n }))).not.toBe(requirementClass(task('b', { deviceMemoryMinBytes: 2n })));
  });

  it('matches the obvious scheduler on random fleets and queues', () => {
    const candidatesArb = fc
      .array(fc.tuple(workerInitArb, fc.integer({ min: -1, max: 4 })), { maxLength: 6 })
      .map((ws) => ws.map(([w, credits], i) => ({ worker: worker({ ...w, id: `w${i}` }), credits })));
    const tasksArb = fc.array(requirementsArb, { maxLength: 25 }).map((rs) => rs.map((r, i) => task(`t${i}`, r)));
    fc.assert(
      fc.property(candidatesArb, tasksArb, (cands, tasks) => {
        const ps = placeTasks(tasks, cands);
        const perWorker = new Map<string, number>();
        const seen = new Set<string>();
        for (const p of ps) {
          const c = cands.find((x) => x.worker.id === p.workerId)!;
          // Every placement is feasible and within credit; no task twice.
          expect(naiveFeasible(p.task.spec?.requirements, c.worker)).toBe(true);
          perWorker.set(p.workerId, (perWorker.get(p.workerId) ?? 0) + 1);
          expect(perWorker.get(p.workerId)).toBeLessThanOrEqual(c.credits);
          expect(seen.has(p.task.id)).toBe(false);
          seen.add(p.task.id);
        }
        // A task left out had no feasible worker with credit to spare.
        for (const t of tasks.filter((x) => !seen.has(x.id))) {
          for (const c of cands) {
            if (naiveFeasible(t.spec?.requirements, c.worker)) expect(perWorker.get(c.worker.id) ?? 0).toBeGreaterThanOrEqual(c.credits);
          }
        }
        // Placements keep queue order, and equal the obvious scheduler's.
        const order = tasks.map((t) => t.id);
        expect(ps.map((p) => order.indexOf(p.task.id))).toEqual([...ps.map((p) => order.indexOf(p.task.id))].sort((x, y) => x - y));
        expect(placed(ps)).toEqual(naivePlace(tasks, cands));
      }),
      { seed, numRuns: 400 },
    );
  });
});
