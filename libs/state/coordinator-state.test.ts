import { AttemptOutcome, JobState, TaskState, WorkerState } from '../gen/dtf/common/v1/common_pb';
import type { Event } from '../gen/dtf/result/v1/result_service_pb';
import {
  StateHarness,
  assign,
  canonicalState,
  cancelTasks,
  checkpoint,
  command,
  finish,
  key,
  setWorkerFlags,
  submitJob,
  workerJoined,
  workerLost,
} from './test-commands';
import { workerLostRetriesMax as infraAttemptsMax } from './retry-policy';

const { SUCCEEDED, FAILED, TIMED_OUT, WORKER_LOST, CANCELLED } = AttemptOutcome;

/** The state as JSON without the fields every entry changes (its index) or that a test expects to change. */
function frozen(h: StateHarness, ...ignore: string[]): unknown {
  const s = JSON.parse(canonicalState(h.state)) as Record<string, unknown>;
  for (const k of ['appliedIndex', ...ignore]) delete s[k];
  return s;
}

function allEvents(h: StateHarness): Event[] {
  return h.state.events.after(0n, Number.MAX_SAFE_INTEGER);
}

function eventCases(h: StateHarness): string[] {
  return allEvents(h).map((e) => e.kind.case ?? 'none');
}

/** A harness with workers w1 and w2 online and job j1 of tasks t1, t2, t3. */
function withJob(retries = 0, onTestFailure = true): StateHarness {
  const h = new StateHarness();
  h.apply(workerJoined('w1'));
  h.apply(workerJoined('w2'));
  const spec = { retry: { $typeName: 'dtf.common.v1.RetryPolicy' as const, onTestFailure, initialBackoffMs: 0, multiplier: 0, maxBackoffMs: 0 } };
  h.apply(submitJob('j1', [{ id: 't1', retries, spec }, { id: 't2', retries, spec }, { id: 't3', retries, spec }]));
  return h;
}

describe('CoordinatorState: submit', () => {
  it('creates pending tasks in submission order and one JobSubmitted event', () => {
    const h = new StateHarness();
    const res = h.apply(submitJob('j1', [{ id: 'j1.1' }, { id: 'j1.2' }]));
    expect(res).toEqual({ kind: 'submitted', jobId: 'j1', duplicate: false });
    const job = h.state.jobs.get('j1')!.job;
    expect(job.state).toBe(JobState.PENDING);
    expect(job.submittedAtMs).toBe(h.timeMs);
    expect(job.counts).toMatchObject({ total: 2, pending: 2, running: 0, succeeded: 0 });
    expect(h.state.taskIdsOf('j1')).toEqual(['j1.1', 'j1.2']);
    expect(h.pendingIds()).toEqual(['j1.1', 'j1.2']);
    for (const id of ['j1.1', 'j1.2']) {
      expect(h.task(id)).toMatchObject({ jobId: 'j1', state: TaskState.PENDING, attempt: 0, workerId: '', createdAtMs: h.timeMs });
    }
    const events = allEvents(h);
    expect(events).toHaveLength(1);
    const e = events[0]!;
    expect(e.index).toBe(1n);
    expect(e.timeMs).toBe(h.timeMs);
    if (e.kind.case !== 'jobSubmitted') throw new Error(`expected jobSubmitted, got ${e.kind.case}`);
    expect(e.kind.value.job?.id).toBe('j1');
    expect(e.kind.value.tasks.map((t) => t.id)).toEqual(['j1.1', 'j1.2']);
    // The event is a copy: later changes to the task do not rewrite history.
    h.apply(workerJoined('w1'));
    h.apply(assign(['j1.1', 1, 'w1']));
    expect(e.kind.value.tasks[0]!.state).toBe(TaskState.PENDING);
  });

  it('returns the first job for a repeated idempotency key and changes nothing else', () => {
    const h = new StateHarness();
    h.apply(submitJob('j1', [{ id: 'j1.1' }], 'key-1'));
    const before = frozen(h);
    const res = h.apply(submitJob('j2', [{ id: 'j2.1' }, { id: 'j2.2' }], 'key-1'));
    expect(res).toEqual({ kind: 'submitted', jobId: 'j1', duplicate: true });
    expect(frozen(h)).toEqual(before);
    expect(h.state.jobs.has('j2')).toBe(false);
    expect(h.state.jobIdForKey('key-1')).toBe('j1');
  });

  it('refuses a job id that exists, without changing anything', () => {
    const h = new StateHarness();
    h.apply(submitJob('j1', [{ id: 'a' }]));
    const before = frozen(h);
    expect(h.apply(submitJob('j1', [{ id: 'b' }]))).toMatchObject({ kind: 'error', message: expect.stringContaining('j1') });
    expect(frozen(h)).toEqual(before);
  });

  it('refuses a task id that exists (in another job or twice in one), without changing anything', () => {
    const h = new StateHarness();
    h.apply(workerJoined('w1'));
    h.apply(submitJob('j1', [{ id: 'a' }]));
    h.apply(assign(['a', 1, 'w1']));
    const before = frozen(h);
    expect(h.apply(submitJob('j2', [{ id: 'b' }, { id: 'a' }]))).toMatchObject({ kind: 'error', message: expect.stringContaining('"a"') });
    expect(h.apply(submitJob('j3', [{ id: 'c' }, { id: 'c' }]))).toMatchObject({ kind: 'error', message: expect.stringContaining('"c"') });
    expect(frozen(h)).toEqual(before);
    expect(h.stateOf('a')).toBe(TaskState.RUNNING);
  });

  it('refuses an entry index it has already applied', () => {
    const h = new StateHarness();
    h.apply(submitJob('j1', [{ id: 'a' }]));
    const before = frozen(h);
    expect(h.state.apply(1n, command(5n, submitJob('j2', [{ id: 'b' }])))).toMatchObject({ kind: 'error' });
    expect(frozen(h)).toEqual(before);
    expect(h.state.appliedIndex).toBe(1n);
  });
});

describe('CoordinatorState: assign', () => {
  it('accepts attempt current+1 of a pending task on an online worker', () => {
    const h = withJob();
    const res = h.apply(assign(['t1', 1, 'w1']));
    expect(res).toMatchObject({ kind: 'assigned', rejected: [] });
    if (res.kind !== 'assigned') throw new Error(res.kind);
    expect(res.accepted.map((a) => [a.key.taskId, a.key.attempt, a.workerId, a.task.id])).toEqual([['t1', 1, 'w1', 't1']]);
    expect(h.task('t1')).toMatchObject({ state: TaskState.RUNNING, attempt: 1, workerId: 'w1' });
    expect(h.pendingIds()).toEqual(['t2', 't3']);
    expect(h.state.runningOn('w1').map((t) => t.id)).toEqual(['t1']);
    expect(h.state.jobs.get('j1')!.job).toMatchObject({ state: JobState.RUNNING, counts: { pending: 2, running: 1 } });
    expect(eventCases(h)).toEqual(['jobSubmitted', 'attemptStarted']);
  });

  it('rejects wrong attempts, unknown tasks and workers, and lost workers, changing nothing', () => {
    const h = withJob();
    h.apply(workerJoined('w3'));
    h.apply(workerLost('w3'));
    const before = frozen(h);
    const res = h.apply(assign(['t1', 0, 'w1'], ['t1', 2, 'w1'], ['nope', 1, 'w1'], ['t2', 1, 'ghost'], ['t3', 1, 'w3']));
    expect(res).toMatchObject({ kind: 'assigned', accepted: [] });
    if (res.kind !== 'assigned') throw new Error(res.kind);
    expect(res.rejected.map((k) => `${k.taskId}#${k.attempt}`)).toEqual(['t1#0', 't1#2', 'nope#1', 't2#1', 't3#1']);
    expect(frozen(h)).toEqual(before);
  });

  it('rejects a second placement of the same attempt, in the same entry or a later one', () => {
    const h = withJob();
    const res = h.apply(assign(['t1', 1, 'w1'], ['t1', 1, 'w2']));
    if (res.kind !== 'assigned') throw new Error(res.kind);
    expect(res.accepted.map((a) => a.workerId)).toEqual(['w1']);
    expect(res.rejected).toEqual([key('t1', 1)]);
    const before = frozen(h);
    expect(h.apply(assign(['t1', 1, 'w2']))).toMatchObject({ accepted: [], rejected: [key('t1', 1)] });
    expect(h.apply(assign(['t1', 2, 'w2']))).toMatchObject({ accepted: [], rejected: [key('t1', 2)] });
    expect(frozen(h)).toEqual(before);
    expect(h.task('t1').workerId).toBe('w1');
  });
});

/** A SubmitJob of `tasks` that carries `placements`, as the leader proposes it when it places the tasks at submission. */
function submitPlaced(jobId: string, tasks: { id: string }[], placements: [taskId: string, attempt: number, workerId: string][], idempotencyKey = '') {
  const cmd = submitJob(jobId, tasks, idempotencyKey);
  const placed = assign(...placements);
  if (cmd.case !== 'submitJob' || placed.case !== 'assignAttempts') throw new Error('unexpected command kinds');
  cmd.value.placements = placed.value.placements;
  return cmd;
}

describe('CoordinatorState: placed at submission', () => {
  it('starts the placed tasks right after queuing the job, as an AssignAttempts entry after it would', () => {
    const h = new StateHarness();
    h.apply(workerJoined('w1'));
    const res = h.apply(submitPlaced('j1', [{ id: 't1' }, { id: 't2' }], [['t1', 1, 'w1'], ['t2', 1, 'ghost']]));
    if (res.kind !== 'submitted') throw new Error(res.kind);
    expect(res).toMatchObject({ jobId: 'j1', duplicate: false });
    expect(res.placed!.accepted.map((a) => [a.key.taskId, a.workerId])).toEqual([['t1', 'w1']]);
    expect(res.placed!.rejected).toEqual([key('t2', 1)]);
    expect(h.task('t1')).toMatchObject({ state: TaskState.RUNNING, attempt: 1, workerId: 'w1' });
    expect(h.pendingIds()).toEqual(['t2']);
    expect(h.state.queue.size).toBe(1);
    expect(eventCases(h)).toEqual(['jobSubmitted', 'attemptStarted']);

    // The same as the two entries it saves.
    const two = new StateHarness();
    two.apply(workerJoined('w1'));
    two.apply(submitJob('j1', [{ id: 't1' }, { id: 't2' }]));
    two.apply(assign(['t1', 1, 'w1'], ['t2', 1, 'ghost']));
    expect(frozen(h, 'events')).toEqual(frozen(two, 'events'));
    expect(eventCases(two)).toEqual(eventCases(h));
  });

  it('refuses every placement of a submission it refuses, changing nothing', () => {
    const h = new StateHarness();
    h.apply(workerJoined('w1'));
    h.apply(submitJob('j1', [{ id: 'a' }], 'key-1'));
    const before = frozen(h);
    const res = h.apply(submitPlaced('j2', [{ id: 'b' }], [['b', 1, 'w1']], 'key-1'));
    expect(res).toEqual({ kind: 'submitted', jobId: 'j1', duplicate: true });
    expect(frozen(h)).toEqual(before);
    expect(h.task('a').state).toBe(TaskState.PENDING);
  });
});

describe('CoordinatorState: finish', () => {
  it('rejects a stale attempt or another worker, counts it, and changes nothing else', () => {
    const h = withJob();
    h.apply(assign(['t1', 1, 'w1']));
    const before = frozen(h, 'staleRejected');
    const res = h.apply(finish(['t1', 2, SUCCEEDED, 'w1'], ['t1', 0, SUCCEEDED], ['t1', 1, SUCCEEDED, 'w2'], ['t2', 1, SUCCEEDED], ['nope', 1, FAILED]));
    expect(res).toMatchObject({ kind: 'finished', accepted: [] });
    if (res.kind !== 'finished') throw new Error(res.kind);
    expect(res.rejected.map((k) => `${k.taskId}#${k.attempt}`)).toEqual(['t1#2', 't1#0', 't1#1', 't2#1', 'nope#1']);
    expect(h.state.staleRejected).toBe(5);
    expect(frozen(h, 'staleRejected')).toEqual(before);
    expect(h.task('t1')).toMatchObject({ state: TaskState.RUNNING, workerId: 'w1' });
  });

  it('records the current attempt once; a duplicate result is stale', () => {
    const h = withJob();
    h.apply(assign(['t1', 1, 'w1']));
    expect(h.apply(finish(['t1', 1, SUCCEEDED, 'w1']))).toMatchObject({ accepted: [key('t1', 1)], rejected: [] });
    expect(h.task('t1')).toMatchObject({ state: TaskState.SUCCEEDED, workerId: '', finishedAtMs: h.timeMs });
    expect(h.state.attemptsOf('t1')).toHaveLength(1);
    expect(h.state.runningOn('w1')).toEqual([]);
    const before = frozen(h, 'staleRejected');
    expect(h.apply(finish(['t1', 1, SUCCEEDED, 'w1']))).toMatchObject({ accepted: [], rejected: [key('t1', 1)] });
    expect(h.state.staleRejected).toBe(1);
    expect(frozen(h, 'staleRejected')).toEqual(before);
  });

  it('retries a FAILED task once with retries=1, then fails it', () => {
    const h = withJob(1);
    h.apply(assign(['t1', 1, 'w1']));
    h.apply(finish(['t1', 1, FAILED, 'w1']));
    expect(h.task('t1')).toMatchObject({ state: TaskState.PENDING, attempt: 1, workerId: '' });
    expect(h.pendingIds()).toContain('t1');
    expect(h.state.jobs.get('j1')!.job.counts).toMatchObject({ pending: 3, running: 0, failed: 0 });
    // A late copy of the failed attempt's result must not touch the retry.
    expect(h.apply(finish(['t1', 1, FAILED, 'w1']))).toMatchObject({ accepted: [] });
    h.apply(assign(['t1', 2, 'w2']));
    h.apply(finish(['t1', 2, FAILED, 'w2']));
    expect(h.task('t1')).toMatchObject({ state: TaskState.FAILED, attempt: 2 });
    expect(h.pendingIds()).not.toContain('t1');
    expect(h.state.attemptsOf('t1').map((r) => r.key?.attempt)).toEqual([1, 2]);
  });

  it('errors a timed-out task without retries', () => {
    const h = withJob(0);
    h.apply(assign(['t1', 1, 'w1']));
    h.apply(finish(['t1', 1, TIMED_OUT, 'w1']));
    expect(h.stateOf('t1')).toBe(TaskState.ERRORED);
  });

  it('re-queues WORKER_LOST attempts without using the retry budget, up to infraAttemptsMax attempts', () => {
    const h = withJob(0);
    for (let attempt = 1; attempt <= infraAttemptsMax; attempt++) {
      expect(h.apply(assign(['t1', attempt, 'w1']))).toMatchObject({ rejected: [] });
      h.apply(finish(['t1', attempt, WORKER_LOST, 'w1']));
      expect(h.stateOf('t1')).toBe(attempt < infraAttemptsMax ? TaskState.PENDING : TaskState.ERRORED);
    }
    // The retry budget is still whole after infrastructure losses.
    const r = withJob(1);
    r.apply(assign(['t1', 1, 'w1']));
    r.apply(finish(['t1', 1, WORKER_LOST, 'w1']));
    r.apply(assign(['t1', 2, 'w1']));
    r.apply(finish(['t1', 2, FAILED, 'w1']));
    expect(r.stateOf('t1')).toBe(TaskState.PENDING);
    r.apply(assign(['t1', 3, 'w1']));
    r.apply(finish(['t1', 3, FAILED, 'w1']));
    expect(r.stateOf('t1')).toBe(TaskState.FAILED);
  });
});

describe('CoordinatorState: workers', () => {
  it('WorkerLost re-queues every running task of that worker and only those', () => {
    const h = withJob();
    h.apply(assign(['t1', 1, 'w1'], ['t2', 1, 'w1'], ['t3', 1, 'w2']));
    const res = h.apply(workerLost('w1', 'lease expired'));
    expect(res).toEqual({ kind: 'lost', requeued: [key('t1', 1), key('t2', 1)] });
    expect(h.state.workers.get('w1')!.state).toBe(WorkerState.LOST);
    expect(h.pendingIds()).toEqual(['t1', 't2']);
    expect(h.state.runningOn('w1')).toEqual([]);
    expect(h.task('t3')).toMatchObject({ state: TaskState.RUNNING, workerId: 'w2' });
    const lost = h.state.attemptsOf('t1')[0]!;
    expect(lost).toMatchObject({ outcome: WORKER_LOST, workerId: 'w1' });
    expect(lost.error).toContain('lease expired');
    // The lost worker's own late report is stale, and it gets nothing new.
    expect(h.apply(finish(['t1', 1, SUCCEEDED, 'w1']))).toMatchObject({ accepted: [] });
    expect(h.apply(assign(['t1', 2, 'w1']))).toMatchObject({ accepted: [] });
    expect(h.apply(workerLost('nobody'))).toMatchObject({ kind: 'error' });
  });

  it('WorkerLost does not call cancelled or exhausted tasks re-queued', () => {
    const h = withJob();
    h.apply(assign(['t1', 1, 'w1'], ['t2', 1, 'w1']));
    h.apply(cancelTasks(['t1']));
    for (let attempt = 1; attempt < infraAttemptsMax; attempt++) {
      h.apply(finish(['t2', attempt, WORKER_LOST, 'w1']));
      h.apply(assign(['t2', attempt + 1, 'w1']));
    }
    const res = h.apply(workerLost('w1'));
    expect(res).toEqual({ kind: 'lost', requeued: [] });
    expect(h.stateOf('t1')).toBe(TaskState.CANCELLED);
    expect(h.stateOf('t2')).toBe(TaskState.ERRORED);
  });

  it('WorkerJoined reports attempts the worker no longer runs as orphaned, with a new epoch', () => {
    const h = withJob();
    h.apply(assign(['t1', 1, 'w1'], ['t2', 1, 'w1'], ['t3', 1, 'w1']));
    const res = h.apply(workerJoined('w1', [key('t1', 1), key('t3', 7)]));
    expect(res).toEqual({ kind: 'joined', epoch: 2n, orphaned: [key('t2', 1), key('t3', 1)] });
    // Joining only reports: the orphans are finished by a later entry.
    expect(h.stateOf('t2')).toBe(TaskState.RUNNING);
    expect(h.apply(workerJoined('w1', [key('t1', 1), key('t2', 1), key('t3', 1)]))).toMatchObject({ epoch: 3n, orphaned: [] });
  });

  it('keeps a cordon across a rejoin but clears draining, and puts a lost worker back online', () => {
    const h = new StateHarness();
    h.apply(workerJoined('w1'));
    h.apply(setWorkerFlags('w1', { cordoned: true, draining: true }));
    expect(h.state.workers.get('w1')).toMatchObject({ cordoned: true, draining: true });
    h.apply(workerLost('w1'));
    h.apply(workerJoined('w1'));
    expect(h.state.workers.get('w1')).toMatchObject({ state: WorkerState.ONLINE, cordoned: true, draining: false });
    h.apply(setWorkerFlags('w1', { cordoned: false }));
    expect(h.state.workers.get('w1')).toMatchObject({ cordoned: false, draining: false });
    expect(h.apply(setWorkerFlags('ghost', { cordoned: true }))).toMatchObject({ kind: 'error' });
  });
});

describe('CoordinatorState: cancel', () => {
  it('cancels pending and running tasks, reports the running ones, and records their late result', () => {
    const h = withJob();
    h.apply(assign(['t2', 1, 'w1'], ['t3', 1, 'w2']));
    h.apply(finish(['t3', 1, SUCCEEDED, 'w2']));
    const res = h.apply(cancelTasks(['t1', 't2', 't3', 'nope'], 'job cancelled'));
    expect(res).toEqual({ kind: 'cancelled', running: [{ key: key('t2', 1), workerId: 'w1' }] });
    expect(h.task('t1')).toMatchObject({ state: TaskState.CANCELLED, pendingReason: 'job cancelled' });
    expect(h.stateOf('t2')).toBe(TaskState.CANCELLED);
    expect(h.stateOf('t3')).toBe(TaskState.SUCCEEDED);
    expect(h.pendingIds()).toEqual([]);
    expect(h.state.jobs.get('j1')!.job).toMatchObject({ state: JobState.CANCELLED, counts: { total: 3, cancelled: 2, succeeded: 1, running: 0 } });
    // Cancelled tasks take no new attempt.
    expect(h.apply(assign(['t1', 1, 'w1']))).toMatchObject({ accepted: [] });
    // The running attempt's result is recorded, yet the task stays cancelled.
    expect(h.apply(finish(['t2', 1, FAILED, 'w1']))).toMatchObject({ accepted: [key('t2', 1)] });
    expect(h.task('t2')).toMatchObject({ state: TaskState.CANCELLED, workerId: '' });
    expect(h.task('t2').result?.outcome).toBe(FAILED);
    expect(h.state.attemptsOf('t2')).toHaveLength(1);
    expect(h.state.runningOn('w1')).toEqual([]);
    expect(h.state.jobs.get('j1')!.job.state).toBe(JobState.CANCELLED);
    expect(h.apply(finish(['t2', 1, FAILED, 'w1']))).toMatchObject({ accepted: [] });
    // Cancelling again changes nothing.
    const before = frozen(h);
    expect(h.apply(cancelTasks(['t1', 't2', 't3']))).toEqual({ kind: 'cancelled', running: [] });
    expect(frozen(h)).toEqual(before);
  });
});

describe('CoordinatorState: job life', () => {
  function counts(h: StateHarness, jobId: string): unknown {
    const { total, pending, running, succeeded, failed, cancelled, errored } = h.state.jobs.get(jobId)!.job.counts!;
    return { total, pending, running, succeeded, failed, cancelled, errored };
  }
  const zero = { pending: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, errored: 0 };

  it('goes pending → running → succeeded and says so once', () => {
    const h = withJob();
    expect(counts(h, 'j1')).toEqual({ ...zero, total: 3, pending: 3 });
    h.apply(assign(['t1', 1, 'w1'], ['t2', 1, 'w2']));
    expect(counts(h, 'j1')).toEqual({ ...zero, total: 3, pending: 1, running: 2 });
    h.apply(finish(['t1', 1, SUCCEEDED, 'w1']));
    expect(h.state.jobs.get('j1')!.job.state).toBe(JobState.RUNNING);
    h.apply(finish(['t2', 1, SUCCEEDED, 'w2']));
    h.apply(assign(['t3', 1, 'w1']));
    expect(counts(h, 'j1')).toEqual({ ...zero, total: 3, running: 1, succeeded: 2 });
    expect(h.state.jobs.get('j1')!.job.state).toBe(JobState.RUNNING);
    h.apply(finish(['t3', 1, SUCCEEDED, 'w1']));
    const job = h.state.jobs.get('j1')!.job;
    expect(job.state).toBe(JobState.SUCCEEDED);
    expect(job.finishedAtMs).toBe(h.timeMs);
    expect(counts(h, 'j1')).toEqual({ ...zero, total: 3, succeeded: 3 });
    expect(eventCases(h).filter((c) => c === 'jobFinished')).toHaveLength(1);
    expect(eventCases(h).filter((c) => c === 'taskFinished')).toHaveLength(3);
  });

  it('fails when any task fails, even with others cancelled', () => {
    const h = withJob();
    h.apply(assign(['t1', 1, 'w1']));
    h.apply(finish(['t1', 1, FAILED, 'w1']));
    expect(h.state.jobs.get('j1')!.job.state).toBe(JobState.RUNNING);
    h.apply(cancelTasks(['t2', 't3']));
    expect(h.state.jobs.get('j1')!.job.state).toBe(JobState.FAILED);
    expect(counts(h, 'j1')).toEqual({ ...zero, total: 3, failed: 1, cancelled: 2 });
  });

  it('is cancelled when cancelled before anything ran, and a cancelled attempt outcome cancels a task', () => {
    const h = withJob();
    h.apply(cancelTasks(['t1', 't2', 't3']));
    expect(h.state.jobs.get('j1')!.job.state).toBe(JobState.CANCELLED);
    const g = withJob();
    g.apply(assign(['t1', 1, 'w1']));
    g.apply(finish(['t1', 1, CANCELLED, 'w1']));
    expect(g.stateOf('t1')).toBe(TaskState.CANCELLED);
  });
});

describe('CoordinatorState: events', () => {
  it('numbers events 1, 2, 3… without gaps and releases them at a collector checkpoint', () => {
    const h = withJob();
    h.apply(assign(['t1', 1, 'w1'], ['t2', 1, 'w1']));
    h.apply(finish(['t1', 1, SUCCEEDED, 'w1'], ['t2', 1, SUCCEEDED, 'w1']));
    const events = allEvents(h);
    expect(events.map((e) => e.index)).toEqual(events.map((_, i) => BigInt(i + 1)));
    const last = h.state.events.last;
    expect(last).toBe(BigInt(events.length));
    expect(h.state.events.after(2n, 2).map((e) => e.index)).toEqual([3n, 4n]);

    h.apply(checkpoint(3n));
    expect(h.state.events.first).toBe(4n);
    expect(allEvents(h).map((e) => e.index)[0]).toBe(4n);
    expect(h.state.events.after(5n, 100).map((e) => e.index)[0]).toBe(6n);
    h.apply(checkpoint(2n));
    expect(h.state.events.first).toBe(4n);
    h.apply(checkpoint(last + 10n));
    expect(allEvents(h)).toEqual([]);
    expect(h.state.events.last).toBe(last);

    // Numbering continues after a release.
    h.apply(assign(['t3', 1, 'w2']));
    expect(allEvents(h).map((e) => e.index)).toEqual([last + 1n]);
    expect(h.apply({ case: undefined })).toMatchObject({ kind: 'error', message: 'empty command' });
  });
});
