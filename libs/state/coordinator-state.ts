import { clone, create } from '@bufbuild/protobuf';
import {
  AttemptOutcome,
  AttemptResultSchema,
  JobSchema,
  JobState,
  TaskCountsSchema,
  TaskSchema,
  TaskState,
  WorkerState,
  type AttemptKey,
  type AttemptResult,
  type Job,
  type Task,
  type Worker,
} from '../gen/dtf/common/v1/common_pb';
import type {
  AssignAttempts,
  CancelTasks,
  Command,
  FinishAttempts,
  SetWorkerFlags,
  SubmitJob,
  WorkerJoined,
  WorkerLost,
} from '../gen/dtf/state/v1/command_pb';
import type { StateSnapshot } from '../gen/dtf/state/v1/snapshot_pb';
import { EventLog } from './event-log';
import { PendingQueue } from './pending-queue';
import { snapshotOf } from './state-snapshot';
import { isFinal, nextTaskState } from './task-transitions';

/** What applying one command did, for the proposer waiting on it. */
export type ApplyResult =
  | { kind: 'submitted'; jobId: string; duplicate: boolean }
  | { kind: 'assigned'; accepted: PlacementOutcome[]; rejected: AttemptKey[] }
  | { kind: 'finished'; accepted: AttemptKey[]; rejected: AttemptKey[]; recorded: boolean[] }
  | { kind: 'joined'; epoch: bigint; orphaned: AttemptKey[] }
  | { kind: 'lost'; requeued: AttemptKey[] }
  | { kind: 'cancelled'; running: { key: AttemptKey; workerId: string }[] }
  | { kind: 'ok' }
  | { kind: 'error'; message: string };

/** An accepted placement: the task now runs as `key` on `workerId`. */
export interface PlacementOutcome {
  key: AttemptKey;
  workerId: string;
  task: Task;
}

interface TaskRecord {
  task: Task;
  attempts: AttemptResult[];
  /** Attempts that used the retry budget (failed runs and timeouts). */
  failedRuns: number;
}

interface JobRecord {
  job: Job;
  taskIds: string[];
}

/**
 * The coordinator's durable state: jobs, tasks, attempts and workers. It
 * changes only through {@link CoordinatorState.apply}, called with committed
 * log entries in index order; given the same entries it always ends in the
 * same state, which is what lets a log (local or Raft) rebuild it.
 *
 * It holds no clock: every time comes from the command being applied.
 */
export class CoordinatorState {
  readonly jobs = new Map<string, JobRecord>();
  readonly tasks = new Map<string, TaskRecord>();
  readonly workers = new Map<string, Worker>();
  readonly pending = new PendingQueue();
  readonly events = new EventLog();
  private readonly jobsByKey = new Map<string, string>();
  private readonly runningByWorker = new Map<string, Set<string>>();
  /** Results refused because their attempt was not current (placements are only reported). */
  staleRejected = 0;
  appliedIndex = 0n;

  /** Applies the entry at `index`. Entries must come in order, each once. */
  apply(index: bigint, cmd: Command): ApplyResult {
    if (index <= this.appliedIndex) {
      return { kind: 'error', message: `entry ${index} already applied (at ${this.appliedIndex})` };
    }
    this.appliedIndex = index;
    this.events.beginEntry(cmd.timeMs);
    const k = cmd.kind;
    switch (k.case) {
      case 'submitJob':
        return this.submitJob(k.value, cmd.timeMs);
      case 'assignAttempts':
        return this.assignAttempts(k.value);
      case 'finishAttempts':
        return this.finishAttempts(k.value, cmd.timeMs);
      case 'workerJoined':
        return this.workerJoined(k.value, cmd.timeMs);
      case 'workerLost':
        return this.workerLost(k.value, cmd.timeMs);
      case 'setWorkerFlags':
        return this.setWorkerFlags(k.value);
      case 'cancelTasks':
        return this.cancelTasks(k.value, cmd.timeMs);
      case 'collectorCheckpoint':
        this.events.releaseThrough(k.value.index);
        return { kind: 'ok' };
      default:
        return { kind: 'error', message: 'empty command' };
    }
  }

  /** The durable state as a protobuf image (libs/state/state-snapshot.ts encodes it). */
  toSnapshot(): StateSnapshot {
    return snapshotOf(this, this.runningByWorker);
  }

  /** A state equal to the one `snap` was taken of (decode it with decodeStateSnapshot), derived indexes rebuilt. */
  static fromSnapshot(snap: StateSnapshot): CoordinatorState {
    const s = new CoordinatorState();
    s.appliedIndex = snap.appliedIndex;
    s.staleRejected = Number(snap.staleRejected);
    for (const t of snap.tasks) {
      const task = t.task!;
      s.tasks.set(task.id, { task, attempts: t.attempts, failedRuns: t.failedRuns });
    }
    for (const j of snap.jobs) {
      s.jobs.set(j.job!.id, { job: j.job!, taskIds: j.taskIds });
      if (j.job!.idempotencyKey) s.jobsByKey.set(j.job!.idempotencyKey, j.job!.id);
    }
    for (const w of snap.workers) s.workers.set(w.id, w);
    for (const r of snap.running) for (const id of r.taskIds) s.running(r.workerId).add(id);
    for (const id of snap.pendingTaskIds) s.pending.add(s.tasks.get(id)!.task);
    s.events.restore({ events: snap.events, first: snap.eventsFirst, last: snap.eventsLast, dropped: Number(snap.eventsDropped) });
    return s;
  }

  /** The job that an idempotency key created, if any. */
  jobIdForKey(key: string): string | undefined {
    return this.jobsByKey.get(key);
  }

  /** Attempt results of a task, oldest first. */
  attemptsOf(taskId: string): AttemptResult[] {
    return this.tasks.get(taskId)?.attempts ?? [];
  }

  /** Ids of the tasks of a job, in submission order. */
  taskIdsOf(jobId: string): string[] {
    return this.jobs.get(jobId)?.taskIds ?? [];
  }

  /** Tasks currently running on a worker. */
  runningOn(workerId: string): Task[] {
    const ids = this.runningByWorker.get(workerId);
    return ids ? [...ids].map((id) => this.tasks.get(id)!.task) : [];
  }

  private submitJob(cmd: SubmitJob, timeMs: bigint): ApplyResult {
    const job = cmd.job;
    if (!job) return { kind: 'error', message: 'submit_job without a job' };
    const existing = job.idempotencyKey ? this.jobsByKey.get(job.idempotencyKey) : undefined;
    if (existing) return { kind: 'submitted', jobId: existing, duplicate: true };
    if (this.jobs.has(job.id)) return { kind: 'error', message: `job ${job.id} exists` };
    // A repeated task id would overwrite a task of another job and corrupt its counts.
    const ids = new Set<string>();
    for (const t of cmd.tasks) {
      if (this.tasks.has(t.id) || ids.has(t.id)) return { kind: 'error', message: `job ${job.id}: task id "${t.id}" is already used` };
      ids.add(t.id);
    }
    const stored = create(JobSchema, {
      ...job,
      state: JobState.PENDING,
      submittedAtMs: timeMs,
      counts: create(TaskCountsSchema, { total: cmd.tasks.length, pending: cmd.tasks.length }),
    });
    const record: JobRecord = { job: stored, taskIds: [] };
    this.jobs.set(job.id, record);
    if (job.idempotencyKey) this.jobsByKey.set(job.idempotencyKey, job.id);
    for (const t of cmd.tasks) {
      const task = create(TaskSchema, {
        id: t.id,
        jobId: job.id,
        spec: t.spec,
        state: TaskState.PENDING,
        createdAtMs: timeMs,
      });
      this.tasks.set(task.id, { task, attempts: [], failedRuns: 0 });
      record.taskIds.push(task.id);
      this.pending.add(task);
    }
    // The event is a snapshot of each task as submitted. Specs never change
    // after submission, so the snapshot shares them instead of deep-copying
    // them: at a thousand tasks per job the copy was most of the apply.
    this.events.push({
      case: 'jobSubmitted',
      value: {
        $typeName: 'dtf.result.v1.JobSubmitted',
        job: clone(JobSchema, stored),
        tasks: record.taskIds.map((id) => submittedSnapshot(this.tasks.get(id)!.task)),
      },
    });
    return { kind: 'submitted', jobId: job.id, duplicate: false };
  }

  private assignAttempts(cmd: AssignAttempts): ApplyResult {
    const accepted: PlacementOutcome[] = [];
    const rejected: AttemptKey[] = [];
    for (const p of cmd.placements) {
      const rec = p.key ? this.tasks.get(p.key.taskId) : undefined;
      const worker = this.workers.get(p.workerId);
      const ok =
        rec &&
        p.key &&
        rec.task.state === TaskState.PENDING &&
        p.key.attempt === rec.task.attempt + 1 &&
        worker?.state === WorkerState.ONLINE;
      if (!ok || !rec || !p.key) {
        if (p.key) rejected.push(p.key);
        continue;
      }
      this.pending.remove(rec.task);
      rec.task.attempt = p.key.attempt;
      rec.task.workerId = p.workerId;
      rec.task.pendingReason = '';
      this.setTaskState(rec, TaskState.RUNNING);
      this.running(p.workerId).add(rec.task.id);
      accepted.push({ key: p.key, workerId: p.workerId, task: rec.task });
      this.events.push({
        case: 'attemptStarted',
        value: { $typeName: 'dtf.result.v1.AttemptStarted', key: p.key, jobId: rec.task.jobId, workerId: p.workerId },
      });
    }
    return { kind: 'assigned', accepted, rejected };
  }

  private finishAttempts(cmd: FinishAttempts, timeMs: bigint): ApplyResult {
    const accepted: AttemptKey[] = [];
    const rejected: AttemptKey[] = [];
    // Per result, in command order: one entry may carry the results of many
    // workers, and each must hear about its own.
    const recorded: boolean[] = [];
    for (const result of cmd.results) {
      const ok = this.finishOne(result, timeMs);
      recorded.push(ok);
      if (ok) accepted.push(result.key!);
      else if (result.key) rejected.push(result.key);
    }
    return { kind: 'finished', accepted, rejected, recorded };
  }

  /** Records one attempt's result; false when the attempt is not current. */
  private finishOne(result: AttemptResult, timeMs: bigint): boolean {
    const key = result.key;
    const rec = key ? this.tasks.get(key.taskId) : undefined;
    const current =
      rec && key && key.attempt === rec.task.attempt && rec.task.workerId !== '' &&
      (result.workerId === '' || result.workerId === rec.task.workerId) &&
      (rec.task.state === TaskState.RUNNING || rec.task.state === TaskState.CANCELLED);
    if (!current || !rec) {
      this.staleRejected++;
      return false;
    }
    const task = rec.task;
    this.runningByWorker.get(task.workerId)?.delete(task.id);
    task.workerId = '';
    task.result = result;
    rec.attempts.push(result);
    this.events.push({
      case: 'attemptFinished',
      value: { $typeName: 'dtf.result.v1.AttemptFinished', jobId: task.jobId, result },
    });
    if (task.state === TaskState.CANCELLED) return true;
    const counted = result.outcome === AttemptOutcome.FAILED || result.outcome === AttemptOutcome.TIMED_OUT;
    const next = nextTaskState(result.outcome, task.attempt, task.spec?.retries ?? 0, rec.failedRuns);
    if (counted) rec.failedRuns++;
    this.setTaskState(rec, next, timeMs);
    if (next === TaskState.PENDING) this.pending.add(task);
    return true;
  }

  private workerJoined(cmd: WorkerJoined, timeMs: bigint): ApplyResult {
    const w = cmd.worker;
    if (!w?.id) return { kind: 'error', message: 'worker_joined without a worker id' };
    const prev = this.workers.get(w.id);
    const epoch = (prev?.sessionEpoch ?? 0n) + 1n;
    this.workers.set(w.id, {
      ...w,
      state: WorkerState.ONLINE,
      cordoned: prev?.cordoned ?? w.cordoned,
      draining: false,
      sessionEpoch: epoch,
      lastSeenMs: timeMs,
    });
    // Attempts the worker no longer knows about were lost with its old session.
    const known = new Set(w.running.map((k) => `${k.taskId}#${k.attempt}`));
    const orphaned = this.runningOn(w.id)
      .filter((t) => !known.has(`${t.id}#${t.attempt}`))
      .map((t) => ({ $typeName: 'dtf.common.v1.AttemptKey' as const, taskId: t.id, attempt: t.attempt }));
    return { kind: 'joined', epoch, orphaned };
  }

  private workerLost(cmd: WorkerLost, timeMs: bigint): ApplyResult {
    const w = this.workers.get(cmd.workerId);
    if (!w) return { kind: 'error', message: `no worker ${cmd.workerId}` };
    w.state = WorkerState.LOST;
    const requeued: AttemptKey[] = [];
    for (const task of this.runningOn(w.id)) {
      const key = { $typeName: 'dtf.common.v1.AttemptKey' as const, taskId: task.id, attempt: task.attempt };
      const result = create(AttemptResultSchema, {
        key,
        outcome: AttemptOutcome.WORKER_LOST,
        finishedAtMs: timeMs,
        error: `worker ${w.id} lost: ${cmd.reason}`,
        workerId: w.id,
      });
      // Cancelled tasks stay cancelled and exhausted ones end: only report real re-queues.
      if (this.finishOne(result, timeMs) && task.state === TaskState.PENDING) requeued.push(key);
    }
    return { kind: 'lost', requeued };
  }

  private setWorkerFlags(cmd: SetWorkerFlags): ApplyResult {
    const w = this.workers.get(cmd.workerId);
    if (!w) return { kind: 'error', message: `no worker ${cmd.workerId}` };
    if (cmd.cordoned !== undefined) w.cordoned = cmd.cordoned;
    if (cmd.draining !== undefined) w.draining = cmd.draining;
    return { kind: 'ok' };
  }

  private cancelTasks(cmd: CancelTasks, timeMs: bigint): ApplyResult {
    const running: { key: AttemptKey; workerId: string }[] = [];
    for (const id of cmd.taskIds) {
      const rec = this.tasks.get(id);
      if (!rec || isFinal(rec.task.state)) continue;
      const task = rec.task;
      if (task.state === TaskState.PENDING) this.pending.remove(task);
      if (task.state === TaskState.RUNNING) {
        running.push({ key: { $typeName: 'dtf.common.v1.AttemptKey', taskId: id, attempt: task.attempt }, workerId: task.workerId });
      }
      task.pendingReason = cmd.reason;
      this.setTaskState(rec, TaskState.CANCELLED, timeMs);
    }
    return { kind: 'cancelled', running };
  }

  private running(workerId: string): Set<string> {
    let s = this.runningByWorker.get(workerId);
    if (!s) this.runningByWorker.set(workerId, (s = new Set()));
    return s;
  }

  /** Moves a task to `state`, keeping its job's counts and state in step. */
  private setTaskState(rec: TaskRecord, state: TaskState, timeMs?: bigint): void {
    const task = rec.task;
    const job = this.jobs.get(task.jobId)!.job;
    const counts = job.counts!;
    adjustCount(counts, task.state, -1);
    adjustCount(counts, state, +1);
    task.state = state;
    if (isFinal(state)) {
      task.finishedAtMs = timeMs ?? 0n;
      this.events.push({
        case: 'taskFinished',
        value: { $typeName: 'dtf.result.v1.TaskFinished', taskId: task.id, jobId: task.jobId, state, attempts: task.attempt },
      });
    }
    const before = job.state;
    job.state = deriveJobState(counts);
    if (job.state !== before && isJobFinal(job.state)) {
      job.finishedAtMs = timeMs ?? 0n;
      this.events.push({ case: 'jobFinished', value: { $typeName: 'dtf.result.v1.JobFinished', job: clone(JobSchema, job) } });
    }
  }
}

/** A task as it was submitted: its own fields copied, its (immutable) spec shared. */
function submittedSnapshot(task: Task): Task {
  return create(TaskSchema, { id: task.id, jobId: task.jobId, spec: task.spec, state: task.state, createdAtMs: task.createdAtMs });
}

function adjustCount(c: Job['counts'] & object, state: TaskState, delta: number): void {
  switch (state) {
    case TaskState.PENDING: c.pending += delta; break;
    case TaskState.RUNNING: c.running += delta; break;
    case TaskState.SUCCEEDED: c.succeeded += delta; break;
    case TaskState.FAILED: c.failed += delta; break;
    case TaskState.CANCELLED: c.cancelled += delta; break;
    case TaskState.ERRORED: c.errored += delta; break;
    default: break;
  }
}

function isJobFinal(s: JobState): boolean {
  return s === JobState.SUCCEEDED || s === JobState.FAILED || s === JobState.CANCELLED;
}

/** A job is finished when all its tasks are; it failed if any task did not succeed. */
function deriveJobState(c: Job['counts'] & object): JobState {
  if (c.pending + c.running > 0) {
    const started = c.running + c.succeeded + c.failed + c.errored + c.cancelled > 0;
    return started ? JobState.RUNNING : JobState.PENDING;
  }
  if (c.succeeded === c.total) return JobState.SUCCEEDED;
  if (c.cancelled > 0 && c.failed + c.errored === 0) return JobState.CANCELLED;
  return JobState.FAILED;
}
