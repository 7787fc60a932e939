import { create } from '@bufbuild/protobuf';
import { AttemptOutcome, AttemptResultSchema, DeviceKind, TaskState, WorkerSchema } from '../gen/dtf/common/v1/common_pb';
import { CoordinatorState } from './coordinator-state';
import { backoffMs } from './retry-policy';
import { StateHarness, assign, cancelTasks, command, finish, key, setWorkerFlags, stepMs, submitJob, workerJoined, workerLost, type CommandKind } from './test-commands';

const { SUCCEEDED, FAILED, START_FAILED, TIMED_OUT } = AttemptOutcome;
const retry = (r: { onTestFailure?: boolean; initialBackoffMs?: number; multiplier?: number; maxBackoffMs?: number }) =>
  ({ $typeName: 'dtf.common.v1.RetryPolicy' as const, onTestFailure: false, initialBackoffMs: 0, multiplier: 0, maxBackoffMs: 0, ...r });

/** A worker with hardware, so resource accounting has something to count. */
function bigWorker(id: string, cpuCores: number, cudas = 0): CommandKind {
  const devices = Array.from({ length: cudas }, (_, i) => ({ kind: DeviceKind.CUDA, memoryBytes: 80n << 30n, index: i }));
  return { case: 'workerJoined', value: { $typeName: 'dtf.state.v1.WorkerJoined', worker: create(WorkerSchema, { id, name: id, slots: 8, hardware: { cpuCores, memoryBytes: 64n << 30n, devices } }) } };
}

describe('CoordinatorState: dependencies', () => {
  it('queues a task only once its dependencies succeed, longest chains first', () => {
    const h = new StateHarness();
    h.apply(workerJoined('w1'));
    h.apply(submitJob('j', [
      { id: 'build', spec: { expectedDurationMs: 1000 } },
      { id: 'unit', spec: { dependsOn: ['build'], expectedDurationMs: 5000 } },
      { id: 'lint', spec: { expectedDurationMs: 2000 } },
    ]));
    expect(h.pendingIds()).toEqual(['build', 'lint']);
    expect(h.task('unit').waitingOn).toEqual(['build']);
    h.apply(assign(['build', 1, 'w1']));
    h.apply(finish(['build', 1, SUCCEEDED, 'w1']));
    expect(h.task('unit').waitingOn).toEqual([]);
    // unit has 5 s of work left, lint 2 s: the longer goes first.
    expect(h.pendingIds()).toEqual(['unit', 'lint']);
  });

  it('skips every transitive dependent of a failed task, naming the dependency, and fails the job', () => {
    const h = new StateHarness();
    h.apply(workerJoined('w1'));
    h.apply(submitJob('j', [{ id: 'a' }, { id: 'b', spec: { dependsOn: ['a'] } }, { id: 'c', spec: { dependsOn: ['b'] } }, { id: 'd' }]));
    h.apply(assign(['a', 1, 'w1'], ['d', 1, 'w1']));
    h.apply(finish(['a', 1, FAILED, 'w1']));
    expect(h.stateOf('b')).toBe(TaskState.SKIPPED);
    expect(h.task('b').pendingReason).toContain('dependency "a" did not succeed');
    expect(h.stateOf('c')).toBe(TaskState.SKIPPED);
    expect(h.task('c').pendingReason).toContain('"b" was skipped');
    expect(h.stateOf('d')).toBe(TaskState.RUNNING);
    h.apply(finish(['d', 1, SUCCEEDED, 'w1']));
    expect(h.state.jobs.get('j')!.job).toMatchObject({ state: 4 /* FAILED */, counts: { skipped: 2, failed: 1, succeeded: 1 } });
    expect(h.pendingIds()).toEqual([]);
    expect(h.state.pendingCount).toBe(0);
  });

  it('refuses a job whose dependencies name a missing task or form a cycle, changing nothing', () => {
    const h = new StateHarness();
    expect(h.apply(submitJob('j', [{ id: 'a', spec: { dependsOn: ['zz'] } }]))).toMatchObject({ kind: 'error', message: expect.stringContaining('"zz"') });
    expect(h.apply(submitJob('j', [{ id: 'a', spec: { dependsOn: ['b'] } }, { id: 'b', spec: { dependsOn: ['a'] } }]))).toMatchObject({ kind: 'error', message: expect.stringContaining('cycle') });
    expect(h.state.jobs.size).toBe(0);
    expect(h.state.tasks.size).toBe(0);
  });
});

describe('CoordinatorState: retries', () => {
  it('does not retry a test failure unless asked, and backs off exponentially when asked', () => {
    const h = new StateHarness();
    h.apply(workerJoined('w1'));
    h.apply(submitJob('j', [{ id: 'plain', retries: 3 }, { id: 'flaky', retries: 3, spec: { retry: retry({ onTestFailure: true, initialBackoffMs: 10_000, multiplier: 3 }) } }]));
    h.apply(assign(['plain', 1, 'w1'], ['flaky', 1, 'w1']));
    h.apply(finish(['plain', 1, FAILED, 'w1'], ['flaky', 1, FAILED, 'w1']));
    expect(h.stateOf('plain')).toBe(TaskState.FAILED);
    expect(h.stateOf('flaky')).toBe(TaskState.PENDING);
    expect(h.task('flaky').notBeforeMs).toBe(h.timeMs + 10_000n);
    // Too early: the state refuses the placement.
    const early = h.state.apply(h.index + 1n, command(h.timeMs + 5_000n, assign(['flaky', 2, 'w1'])));
    h.index++;
    expect(early).toMatchObject({ accepted: [], rejected: [key('flaky', 2)] });
    h.apply(assign(['flaky', 2, 'w1']));
    h.apply(finish(['flaky', 2, FAILED, 'w1']));
    expect(h.task('flaky').notBeforeMs).toBe(h.timeMs + 30_000n);
  });

  it('retries timeouts and start failures within the budget, then errors', () => {
    const h = new StateHarness();
    h.apply(workerJoined('w1'));
    h.apply(submitJob('j', [{ id: 't', retries: 1 }]));
    h.apply(assign(['t', 1, 'w1']));
    h.apply(finish(['t', 1, TIMED_OUT, 'w1']));
    expect(h.stateOf('t')).toBe(TaskState.PENDING);
    h.apply(assign(['t', 2, 'w1']));
    h.apply(finish(['t', 2, START_FAILED, 'w1']));
    expect(h.stateOf('t')).toBe(TaskState.ERRORED);
  });

  it('computes the default backoff as 1 s, 2 s, 4 s … capped at 60 s', () => {
    expect([1, 2, 3, 4, 7, 8, 20].map((n) => backoffMs(undefined, n))).toEqual([1000, 2000, 4000, 8000, 60_000, 60_000, 60_000]);
  });
});

describe('CoordinatorState: circuit breaker', () => {
  it('quarantines a worker after 3 infrastructure failures in a row, probes it once after the cool-down, and restores it', () => {
    const h = new StateHarness(); // each entry is 60 s after the last; the cool-down is 30 s
    h.apply(workerJoined('w1'));
    h.apply(submitJob('j', Array.from({ length: 6 }, (_, i) => ({ id: `t${i}`, retries: 5 }))));
    h.apply(assign(['t0', 1, 'w1'], ['t1', 1, 'w1'], ['t2', 1, 'w1']));
    h.apply(finish(['t0', 1, START_FAILED, 'w1'], ['t1', 1, SUCCEEDED, 'w1']));
    expect(h.state.workers.get('w1')!.breaker).toMatchObject({ consecutiveFailures: 0, quarantined: false });
    h.apply(finish(['t2', 1, START_FAILED, 'w1']));
    h.apply(assign(['t3', 1, 'w1']));
    h.apply(finish(['t3', 1, TIMED_OUT, 'w1']));
    expect(h.state.workers.get('w1')!.breaker).toMatchObject({ consecutiveFailures: 2, quarantined: false });
    h.apply(assign(['t4', 1, 'w1']));
    h.apply(finish(['t4', 1, START_FAILED, 'w1']));
    const b = h.state.workers.get('w1')!.breaker!;
    expect(b).toMatchObject({ quarantined: true, trips: 1, untilMs: h.timeMs + 30_000n });
    expect(b.reason).toContain('3 infrastructure failures');
    // Within the cool-down nothing is placed.
    const during = h.state.apply(h.index + 1n, command(h.timeMs + 10_000n, assign(['t5', 1, 'w1'])));
    h.index++;
    expect(during).toMatchObject({ accepted: [] });
    // After it, exactly one probe.
    expect(h.apply(assign(['t5', 1, 'w1'], ['t0', 2, 'w1']))).toMatchObject({ accepted: [expect.objectContaining({ key: key('t5', 1) })], rejected: [key('t0', 2)] });
    expect(b.probing).toBe(true);
    h.apply(finish(['t5', 1, SUCCEEDED, 'w1']));
    expect(h.state.workers.get('w1')!.breaker).toMatchObject({ quarantined: false, probing: false, consecutiveFailures: 0, trips: 0 });
  });

  it('re-quarantines on a failed probe with a doubled cool-down, and an operator can clear it', () => {
    const h = new StateHarness();
    h.apply(workerJoined('w1'));
    h.apply(submitJob('j', Array.from({ length: 5 }, (_, i) => ({ id: `t${i}`, retries: 5 }))));
    h.apply(assign(['t0', 1, 'w1'], ['t1', 1, 'w1'], ['t2', 1, 'w1']));
    h.apply(finish(['t0', 1, START_FAILED, 'w1'], ['t1', 1, START_FAILED, 'w1'], ['t2', 1, START_FAILED, 'w1']));
    h.apply(assign(['t3', 1, 'w1']));
    h.apply(finish(['t3', 1, START_FAILED, 'w1']));
    const b = h.state.workers.get('w1')!.breaker!;
    expect(b).toMatchObject({ quarantined: true, trips: 2, probing: false, untilMs: h.timeMs + 60_000n });
    h.apply(setWorkerFlags('w1', { clearQuarantine: true }));
    expect(h.state.workers.get('w1')!.breaker).toMatchObject({ quarantined: false, trips: 0, consecutiveFailures: 0 });
    expect(h.apply(assign(['t4', 1, 'w1']))).toMatchObject({ rejected: [] });
  });

  it('probes again when a probe is cancelled or handed back: neither says anything about the worker', () => {
    const h = new StateHarness();
    h.apply(workerJoined('w1'));
    h.apply(submitJob('j', Array.from({ length: 6 }, (_, i) => ({ id: `t${i}`, retries: 5 }))));
    h.apply(assign(['t0', 1, 'w1'], ['t1', 1, 'w1'], ['t2', 1, 'w1']));
    h.apply(finish(['t0', 1, START_FAILED, 'w1'], ['t1', 1, START_FAILED, 'w1'], ['t2', 1, START_FAILED, 'w1']));
    h.apply(assign(['t3', 1, 'w1']));
    h.apply(cancelTasks(['t3']));
    h.apply(finish(['t3', 1, AttemptOutcome.CANCELLED, 'w1']));
    expect(h.state.workers.get('w1')!.breaker).toMatchObject({ quarantined: true, probing: false });
    h.apply(assign(['t4', 1, 'w1']));
    h.apply(finish(['t4', 1, AttemptOutcome.HANDED_BACK, 'w1']));
    expect(h.state.workers.get('w1')!.breaker).toMatchObject({ quarantined: true, probing: false });
    // A hand-back is requeued at once and uses no budget.
    expect(h.task('t4')).toMatchObject({ state: TaskState.PENDING, notBeforeMs: 0n });
    expect(h.apply(assign(['t4', 2, 'w1']))).toMatchObject({ rejected: [] });
    h.apply(finish(['t4', 2, SUCCEEDED, 'w1']));
    expect(h.state.workers.get('w1')!.breaker).toMatchObject({ quarantined: false });
  });

  it('counts a lost worker once however many attempts it held, and keeps the breaker across a rejoin', () => {
    const h = new StateHarness();
    h.apply(workerJoined('w1'));
    h.apply(submitJob('j', [{ id: 'a' }, { id: 'b' }]));
    h.apply(assign(['a', 1, 'w1'], ['b', 1, 'w1']));
    h.apply(workerLost('w1'));
    h.apply(workerJoined('w1'));
    expect(h.state.workers.get('w1')!.breaker).toMatchObject({ consecutiveFailures: 1, quarantined: false });
  });
});

describe('CoordinatorState: resources', () => {
  it('runs tasks side by side only while the worker has the CPU and devices for them', () => {
    const h = new StateHarness();
    h.apply(bigWorker('w1', 8, 2));
    const cpu4 = { requirements: { $typeName: 'dtf.common.v1.Requirements' as const, cpuCores: 4, anyOf: [], allOf: [], deviceCount: 0, deviceMemoryMinBytes: 0n, deviceMemoryMaxBytes: 0n, memoryBytes: 0n, labels: {}, selectors: [], preferences: [] } };
    const gpu2 = { requirements: { ...cpu4.requirements, cpuCores: 0, anyOf: [DeviceKind.CUDA], deviceCount: 2 } };
    h.apply(submitJob('j', [{ id: 'c1', spec: cpu4 }, { id: 'c2', spec: cpu4 }, { id: 'c3', spec: cpu4 }, { id: 'g1', spec: gpu2 }, { id: 'g2', spec: gpu2 }]));
    expect(h.apply(assign(['c1', 1, 'w1'], ['c2', 1, 'w1'], ['c3', 1, 'w1'], ['g1', 1, 'w1'], ['g2', 1, 'w1']))).toMatchObject({
      rejected: [key('c3', 1), key('g2', 1)],
    });
    const w = h.state.workers.get('w1')!;
    expect(h.state.freeOn(w)).toMatchObject({ cpu: 0, devices: new Map([[DeviceKind.CUDA, 0]]) });
    h.apply(finish(['c1', 1, SUCCEEDED, 'w1'], ['g1', 1, SUCCEEDED, 'w1']));
    expect(h.state.freeOn(w)).toMatchObject({ cpu: 4, devices: new Map([[DeviceKind.CUDA, 2]]) });
    expect(h.apply(assign(['c3', 1, 'w1'], ['g2', 1, 'w1']))).toMatchObject({ rejected: [] });
  });
});

describe('CoordinatorState: deadlines and history', () => {
  it('warns at submission when a deadline cannot be met, and later when a task can no longer start in time', () => {
    const h = new StateHarness();
    h.apply(workerJoined('w1'));
    const t0 = h.timeMs + stepMs;
    h.apply(submitJob('j', [
      { id: 'late', spec: { expectedDurationMs: 120_000, deadlineMs: t0 + 60_000n } },
      { id: 'tight', spec: { expectedDurationMs: 30_000, deadlineMs: t0 + 100_000n } },
    ]));
    expect(h.task('late').warnings[0]).toMatch(/deadline cannot be met: predicted to finish 60.0 s late/);
    expect(h.task('tight').warnings).toEqual([]);
    expect(h.state.deadlinesDue(Number(t0) + 60_000)).toBe(false);
    expect(h.state.deadlinesDue(Number(t0) + 80_000)).toBe(true);
    h.state.apply(++h.index, command(t0 + 80_000n, { case: 'checkDeadlines', value: { $typeName: 'dtf.state.v1.CheckDeadlines' } }));
    expect(h.task('tight').warnings[0]).toMatch(/deadline can no longer be met: not started, needs ~30.0 s, 20.0 s left/);
    expect(h.state.jobs.get('j')!.job.warnings).toHaveLength(2);
  });

  it('predicts a task from earlier successful runs of the same job and task name', () => {
    const s = new CoordinatorState();
    let i = 0n;
    const at = (ms: bigint, k: CommandKind) => s.apply(++i, command(ms, k));
    at(1n, workerJoined('w1'));
    at(2n, submitJob('j1', [{ id: 'a' }]));
    at(3n, assign(['a', 1, 'w1']));
    at(50_000n, { case: 'finishAttempts', value: { $typeName: 'dtf.state.v1.FinishAttempts', results: [create(AttemptResultSchema, { key: key('a', 1), outcome: SUCCEEDED, workerId: 'w1', startedAtMs: 10_000n, finishedAtMs: 40_000n })] } });
    // Same job name ("job j1" in the builder) and task name: predicted from history.
    at(60_000n, submitJob('j1-again', [{ id: 'a2', spec: { name: 'a' } }]));
    expect(s.tasks.get('a2')!.task.predictedDurationMs).toBe(0); // another job name: no history
    const fresh = new CoordinatorState();
    fresh.apply(1n, command(1n, submitJob('j1', [{ id: 'x', spec: { expectedDurationMs: 7000 } }])));
    expect(fresh.tasks.get('x')!.task.predictedDurationMs).toBe(7000);
  });
});

describe('CoordinatorState: queue bounds', () => {
  it('refuses submissions past the bound, low priority first, and keeps what it accepted', () => {
    const s = new CoordinatorState({ bounds: { queuedMax: 10, tenantQueuedMax: 6 } });
    let i = 0n;
    const at = (k: CommandKind) => s.apply(++i, command(i * 1000n, k));
    const tasks = (p: string, n: number, priority: number) => Array.from({ length: n }, (_, k) => ({ id: `${p}${k}`, priority }));
    expect(at(submitJob('a', tasks('a', 5, 0), '', 't1'))).toMatchObject({ kind: 'submitted' });
    // Tenant t1 at 5 of 6: one more normal task passes 90% of 6 = 5.
    expect(at(submitJob('b', tasks('b', 1, 0), '', 't1'))).toMatchObject({ kind: 'exhausted', message: expect.stringContaining('tenant "t1"') });
    expect(at(submitJob('c', tasks('c', 1, 1), '', 't1'))).toMatchObject({ kind: 'submitted' });
    expect(at(submitJob('d', tasks('d', 2, -1), '', 't2'))).toMatchObject({ kind: 'exhausted', message: expect.stringContaining('bound of 7 for priority -1') });
    expect(at(submitJob('d', tasks('d', 1, -1), '', 't2'))).toMatchObject({ kind: 'submitted' });
    // 7 queued: low priority may fill 75% of 10 = 7, normal 9, high 10.
    expect(at(submitJob('e', tasks('e', 1, -1), '', 't2'))).toMatchObject({ kind: 'exhausted', message: expect.stringContaining('queue full') });
    expect(at(submitJob('f', tasks('f', 1, 0), '', 't2'))).toMatchObject({ kind: 'submitted' });
    expect(at(submitJob('g', tasks('g', 1, 2), '', 't2'))).toMatchObject({ kind: 'submitted' });
    expect(at(submitJob('h', tasks('h', 1, 2), '', 't2'))).toMatchObject({ kind: 'submitted' });
    expect(at(submitJob('i', tasks('i', 1, 2), '', 't2'))).toMatchObject({ kind: 'exhausted' });
    expect(s.pendingCount).toBe(10);
    expect([...s.jobs.keys()]).toEqual(['a', 'c', 'd', 'f', 'g', 'h']);
  });
});
