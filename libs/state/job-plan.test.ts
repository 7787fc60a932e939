import fc from 'fast-check';
import { planGraph, planJob, type PlanTask } from './job-plan';

describe('planJob', () => {
  it('runs the most remaining work first: a chain before a longer lone task, ties by position', () => {
    // 0 -> 1 (10 + 10 = 20 of remaining work from 0), 2 alone (15), 3 alone (15).
    const tasks: PlanTask[] = [
      { predictedMs: 10, deps: [] },
      { predictedMs: 10, deps: [0] },
      { predictedMs: 15, deps: [] },
      { predictedMs: 15, deps: [] },
    ];
    expect(planJob(tasks)).toEqual({ order: [0, 2, 3, 1], earliestFinishMs: [10, 20, 15, 15], acyclic: true });
  });

  it('reports a cycle', () => {
    expect(planJob([{ predictedMs: 1, deps: [1] }, { predictedMs: 1, deps: [0] }]).acyclic).toBe(false);
  });

  it('plans a job without dependencies exactly as the graph does', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 50 }), { maxLength: 200 }), (predicted) => {
        const tasks = predicted.map((predictedMs) => ({ predictedMs, deps: [] }));
        expect(planJob(tasks)).toEqual(planGraph(tasks));
      }),
    );
  });
});
