import { create } from '@bufbuild/protobuf';
import {
  AttemptOutcome as AttemptOutcomeEnum,
  AttemptResultSchema,
  JobState as JobStateEnum,
  TaskState as TaskStateEnum,
  WorkerState as WorkerStateEnum,
  type AttemptKey,
  type AttemptResult,
  type Job,
  type Task,
  type TaskSpec,
  type Worker,
} from '../gen/dtf/common/v1/common_pb';
import type {
  CancelTasks,
  Command,
  FinishAttempts,
  Placement,
  SetWorkerFlags,
  SubmitJob,
  WorkerJoined,
  WorkerLost,
} from '../gen/dtf/state/v1/command_pb';
import type { StateSnapshot } from '../gen/dtf/state/v1/snapshot_pb';
import { IndexedHeap } from '../scheduling/indexed-heap';
import { ReadyIndex, type QueueEntry } from '../scheduling/ready-index';
import { addResources, allocate, capacityOf, demandOf, emptyResources, NO_DEMAND, NO_RESOURCES, subtract, type Resources } from '../scheduling/resources';
import { admissionRefusal, defaultBounds, type QueueBounds } from './admission';
import { breakerAllows, breakerFailed, breakerSucceeded, clearBreaker, defaultBreaker, newBreaker, type BreakerOptions } from './circuit-breaker';
import { compactSpec } from './compact-spec';
import { DurationModel } from './duration-model';
import { EventLog } from './event-log';
import { hasDependencies, planJob } from './job-plan';
import { jobSnapshot } from './job-snapshot';
import { NONE, newTask } from './new-task';
import { backoffMs, decideRetry, isInfraFailure } from './retry-policy';
import { holdingOf, snapshotOf } from './state-snapshot';
import { isFinal } from './task-transitions';

/*
 * The enums, read once (as in dispatcher.ts): under tsx, a member read
 * through the generated module's exports is a getter call, and those
 * getters showed in the coordinator's profiles (~1.5% of samples); these
 * are read several times per task.
 */
const AttemptOutcome = AttemptOutcomeEnum;
type AttemptOutcome = AttemptOutcomeEnum;
const JobState = JobStateEnum;
type JobState = JobStateEnum;
const TaskState = TaskStateEnum;
type TaskState = TaskStateEnum;
const WorkerState = WorkerStateEnum;
type WorkerState = WorkerStateEnum;

/** The dependencies of a task that has none, shared (never changed). */
const NO_DEPENDENCIES: number[] = Object.freeze([]) as unknown as number[];

/** What applying one command did, for the proposer waiting on it. */
export type ApplyResult =
  | { kind: 'submitted'; jobId: string; duplicate: boolean; placed?: Placed }
  | { kind: 'exhausted'; message: string }
  | { kind: 'assigned'; accepted: PlacementOutcome[]; rejected: AttemptKey[] }
  | { kind: 'finished'; accepted: AttemptKey[]; rejected: AttemptKey[]; recorded: boolean[] }
  | { kind: 'joined'; epoch: bigint; orphaned: AttemptKey[] }
  | { kind: 'lost'; requeued: AttemptKey[] }
  | { kind: 'cancelled'; running: { key: AttemptKey; workerId: string }[] }
  | { kind: 'ok' }
  | { kind: 'error'; message: string };

/** What became of a command's placements. */
export interface Placed {
  accepted: PlacementOutcome[];
  rejected: AttemptKey[];
}

/** An accepted placement: the task now runs as `key` on `workerId`. */
export interface PlacementOutcome {
  key: AttemptKey;
  workerId: string;
  task: Task;
}

/** Policy settings every replica must share: they decide what applying does. */
export interface StateOptions {
  bounds: QueueBounds;
  breaker: BreakerOptions;
}

/** The tenant of jobs submitted without one. */
export const defaultTenant = 'default';
/** Warnings a job keeps at most; later ones are counted in the last. */
export const jobWarningsMax = 50;

/**
 * A task and what the state keeps about it. It is also the task's entry in
 * the ready queue (the QueueEntry fields), so a queued task costs no more
 * objects than a task.
 */
interface TaskRecord extends QueueEntry {
  attempts: AttemptResult[];
  /** Attempts ended by a lost worker. */
  lost: number;
  /** Retries taken from the task's own budget. */
  budgeted: number;
  /** Tasks waiting on this one; undefined when none (most tasks: it saves memory). */
  dependents: string[] | undefined;
  /** What the running attempt holds on its worker. */
  holding: Resources | undefined;
  /** In the deadline watch. */
  watchPos: number;
  latestStartMs: number;
}

interface JobRecord {
  job: Job;
  taskIds: string[];
}

interface TenantUsage {
  queued: number;
  running: number;
}

/**
 * The coordinator's durable state: jobs, tasks, attempts and workers. It
 * changes only through {@link CoordinatorState.apply}, called with committed
 * log entries in index order; given the same entries (and options) it always
 * ends in the same state, which is what lets a log (local or Raft) rebuild it.
 *
 * It holds no clock: every time comes from the command being applied.
 */
export class CoordinatorState {
  readonly jobs = new Map<string, JobRecord>();
  readonly tasks = new Map<string, TaskRecord>();
  readonly workers = new Map<string, Worker>();
  /** Ready pending tasks, indexed for the scheduler; waiting ones are not in it. */
  readonly queue = new ReadyIndex((id) => this.tasks.get(id));
  readonly events = new EventLog();
  readonly durations = new DurationModel();
  readonly options: StateOptions;
  private readonly jobsByKey = new Map<string, string>();
  private readonly runningByWorker = new Map<string, Set<string>>();
  private readonly usedByWorker = new Map<string, Resources>();
  private readonly tenants = new Map<string, TenantUsage>();
  /** Pending tasks with a deadline, by the latest time they can start and still make it. */
  private readonly deadlineWatch = new IndexedHeap<TaskRecord>((a, b) => a.latestStartMs < b.latestStartMs, 'watchPos');
  private nextSeq = 0;
  /** Tasks in the PENDING state, waiting on dependencies or backoff included. */
  pendingCount = 0;
  /** Results refused because their attempt was not current (placements are only reported). */
  staleRejected = 0;
  appliedIndex = 0n;

  constructor(options: Partial<StateOptions> = {}) {
    this.options = { bounds: { ...defaultBounds, ...options.bounds }, breaker: { ...defaultBreaker, ...options.breaker } };
  }

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
        return { kind: 'assigned', ...this.place(k.value.placements, cmd.timeMs) };
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
      case 'checkDeadlines':
        this.checkDeadlines(cmd.timeMs);
        return { kind: 'ok' };
      default:
        return { kind: 'error', message: 'empty command' };
    }
  }

  /** The durable state as a protobuf image (libs/state/state-snapshot.ts encodes it). */
  toSnapshot(): StateSnapshot {
    return snapshotOf({
      appliedIndex: this.appliedIndex,
      staleRejected: this.staleRejected,
      nextSeq: this.nextSeq,
      jobs: this.jobs.values(),
      tasks: this.tasks.values(),
      workers: this.workers.values(),
      running: this.runningByWorker,
      durations: this.durations.entries(),
      events: this.events,
    });
  }

  /**
   * A state equal to the one `snap` was taken of (decode it with
   * decodeStateSnapshot), with `options` (every replica's must be the same),
   * and every derived index rebuilt: the queue, dependents, tenants' counts,
   * resources in use and the deadline watch.
   */
  static fromSnapshot(snap: StateSnapshot, options: Partial<StateOptions> = {}): CoordinatorState {
    const s = new CoordinatorState(options);
    s.appliedIndex = snap.appliedIndex;
    s.staleRejected = Number(snap.staleRejected);
    s.nextSeq = Number(snap.nextSeq);
    for (const d of snap.durations) s.durations.observe(d.key, d.ms);
    const tenantOf = new Map<string, string>();
    for (const j of snap.jobs) {
      const job = j.job!;
      s.jobs.set(job.id, { job, taskIds: j.taskIds });
      if (job.idempotencyKey) s.jobsByKey.set(job.idempotencyKey, job.id);
      for (const id of j.taskIds) tenantOf.set(id, job.tenant || defaultTenant);
    }
    for (const w of snap.workers) s.workers.set(w.id, w);
    for (const t of snap.tasks) {
      const task = t.task!;
      task.spec = compactSpec(task.spec);
      s.tasks.set(task.id, {
        task, attempts: t.attempts.length === 0 ? NONE : t.attempts, seq: Number(t.seq), tenant: tenantOf.get(task.id) ?? defaultTenant,
        lost: t.lost, budgeted: t.budgeted, dependents: undefined,
        enqueuedMs: Number(t.enqueuedMs), priority: task.spec?.priority ?? 0, deadlineMs: Number(task.spec?.deadlineMs ?? 0n), notBeforeMs: Number(task.notBeforeMs),
        cls: '', agePos: -1, pos: -1, queued: false,
        holding: t.holding ? holdingOf(t.holding) : undefined, watchPos: -1, latestStartMs: 0,
      });
    }
    for (const r of snap.running) for (const id of r.taskIds) s.running(r.workerId).add(id);
    const bySeq = [...s.tasks.values()].sort((a, b) => a.seq - b.seq);
    for (const rec of bySeq) {
      const task = rec.task;
      for (const id of task.waitingOn) {
        const dep = s.tasks.get(id);
        if (dep) (dep.dependents ??= []).push(task.id);
      }
      if (rec.holding && task.workerId) {
        let used = s.usedByWorker.get(task.workerId);
        if (!used) s.usedByWorker.set(task.workerId, (used = emptyResources()));
        addResources(used, rec.holding, 1);
      }
      if (task.workerId) s.tenant(rec.tenant).running++;
      if (task.state !== TaskState.PENDING) continue;
      s.pendingCount++;
      s.tenant(rec.tenant).queued++;
      if (task.waitingOn.length === 0) s.queue.add(rec, 0);
      if (rec.deadlineMs > 0 && task.warnings.length === 0) {
        rec.latestStartMs = rec.deadlineMs - task.predictedDurationMs;
        s.deadlineWatch.push(rec);
      }
    }
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

  /** True when no task is pending (queued, waiting or backing off) or running: no task event comes until new work does. */
  get idle(): boolean {
    if (this.pendingCount > 0) return false;
    for (const t of this.tenants.values()) if (t.running > 0) return false;
    return true;
  }

  /** Number of tasks running on a worker. */
  runningCount(workerId: string): number {
    return this.runningByWorker.get(workerId)?.size ?? 0;
  }

  /** What a worker has free now: its capacity less what its running attempts hold. */
  freeOn(worker: Worker): Resources {
    return subtract(capacityOf(worker), this.usedOn(worker.id));
  }

  /** What the worker's running attempts hold; read-only. */
  usedOn(workerId: string): Resources {
    return this.usedByWorker.get(workerId) ?? NO_RESOURCES;
  }

  /** The tenant's running and queued task counts. */
  tenantUsage(tenant: string): TenantUsage {
    return this.tenants.get(tenant) ?? { queued: 0, running: 0 };
  }

  /** The tenant a task's job belongs to. */
  tenantOf(taskId: string): string {
    return this.tasks.get(taskId)?.tenant ?? defaultTenant;
  }

  /** Whether a CheckDeadlines entry at `timeMs` would warn about anything. */
  deadlinesDue(timeMs: number): boolean {
    const top = this.deadlineWatch.peek();
    return top !== undefined && top.latestStartMs < timeMs;
  }

  /**
   * Puts back a task the scheduler took out of the queue for a placement the
   * log then refused, if it is still ready to run. Derived state only: the
   * queue is rebuilt from the tasks, so this changes nothing replicated.
   */
  requeue(entry: QueueEntry): void {
    const rec = this.tasks.get(entry.task.id);
    if (!rec || rec.task.state !== TaskState.PENDING || rec.task.waitingOn.length > 0 || rec.queued) return;
    this.queue.add(rec, rec.enqueuedMs);
  }

  private tenant(name: string): TenantUsage {
    let t = this.tenants.get(name);
    if (!t) this.tenants.set(name, (t = { queued: 0, running: 0 }));
    return t;
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
    const tenant = job.tenant || defaultTenant;
    const priority = cmd.tasks.reduce((m, t) => Math.max(m, t.spec?.priority ?? 0), -Infinity);
    const refusal = admissionRefusal(this.options.bounds, priority, cmd.tasks.length, this.pendingCount, tenant, this.tenantUsage(tenant).queued);
    if (refusal) return { kind: 'exhausted', message: refusal };
    const deps = this.resolveDependencies(job.id, cmd.tasks);
    if (typeof deps === 'string') return { kind: 'error', message: deps };
    const predicted = cmd.tasks.map((t) => this.predictedMs(job.name, t.spec));
    const plan = planJob(predicted.map((p, i) => ({ predictedMs: p, deps: deps[i] })));
    if (!plan.acyclic) return { kind: 'error', message: `job ${job.id}: its task dependencies form a cycle` };

    // Written out, not made by protobuf-es's reflective `create`: that was a
    // tenth of applying a one-task job. The compiler holds it to every field.
    const n = cmd.tasks.length;
    const stored: Job = {
      $typeName: 'dtf.common.v1.Job',
      id: job.id,
      name: job.name,
      idempotencyKey: job.idempotencyKey,
      state: JobState.PENDING,
      counts: { $typeName: 'dtf.common.v1.TaskCounts', total: n, pending: n, running: 0, succeeded: 0, failed: 0, cancelled: 0, errored: 0, skipped: 0 },
      submittedAtMs: timeMs,
      finishedAtMs: job.finishedAtMs,
      labels: { ...job.labels },
      tenant,
      warnings: [],
    };
    const record: JobRecord = { job: stored, taskIds: cmd.tasks.map((t) => t.id) };
    this.jobs.set(job.id, record);
    if (job.idempotencyKey) this.jobsByKey.set(job.idempotencyKey, job.id);
    const seqs = new Array<number>(cmd.tasks.length);
    for (const i of plan.order) seqs[i] = this.nextSeq++;
    // With placements, queueing waits until they are applied: the placed
    // tasks go straight to their workers (queueing them first only to take
    // them out again was about a seventh of the apply), the rest after.
    const placing = cmd.placements.length > 0;
    const recs = cmd.tasks.map((t, i) => {
      const waitingOn = deps[i].length === 0 ? NONE : [...new Set(deps[i].map((d) => cmd.tasks[d].id))];
      const task = newTask({ id: t.id, jobId: job.id, spec: compactSpec(t.spec), state: TaskState.PENDING, createdAtMs: timeMs, predictedDurationMs: Math.round(predicted[i]), waitingOn });
      const rec: TaskRecord = {
        task, attempts: NONE, seq: seqs[i], tenant, lost: 0, budgeted: 0, dependents: undefined,
        enqueuedMs: 0, priority: t.spec?.priority ?? 0, deadlineMs: Number(t.spec?.deadlineMs ?? 0n), notBeforeMs: 0,
        cls: '', agePos: -1, pos: -1, queued: false,
        holding: undefined, watchPos: -1, latestStartMs: 0,
      };
      this.tasks.set(task.id, rec);
      return rec;
    });
    recs.forEach((rec) => rec.task.waitingOn.forEach((id) => {
      const dep = this.tasks.get(id)!;
      (dep.dependents ??= []).push(rec.task.id);
    }));
    this.pendingCount += recs.length;
    this.tenant(tenant).queued += recs.length;
    // An index loop: entries() made an iterator result and a pair per task.
    for (let i = 0; i < recs.length; i++) {
      const rec = recs[i];
      const deadline = rec.task.spec?.deadlineMs ?? 0n;
      if (deadline > 0n) {
        // Predicted finish with unlimited workers: the longest chain of dependencies ending here.
        const earliestFinishMs = plan.earliestFinishMs[i];
        const finish = timeMs + BigInt(Math.round(earliestFinishMs));
        if (finish > deadline) {
          this.warn(rec, `deadline cannot be met: predicted to finish ${describeMs(Number(finish - deadline))} late (needs ~${describeMs(earliestFinishMs)}, ${describeMs(Number(deadline - timeMs))} left)`);
        } else {
          rec.latestStartMs = Number(deadline) - rec.task.predictedDurationMs;
          this.deadlineWatch.push(rec);
        }
      }
      if (rec.task.waitingOn.length === 0 && !placing) this.enqueue(rec, timeMs);
    }
    // The event is a snapshot of each task as submitted. Specs never change
    // after submission, so the snapshot shares them instead of deep-copying
    // them: at a thousand tasks per job the copy was most of the apply.
    this.events.push({
      case: 'jobSubmitted',
      value: {
        $typeName: 'dtf.result.v1.JobSubmitted',
        job: jobSnapshot(stored),
        tasks: recs.map((rec) => submittedSnapshot(rec.task)),
      },
    });
    // Placed with the submission: after the job's event, as a later AssignAttempts would be.
    if (!placing) return { kind: 'submitted', jobId: job.id, duplicate: false };
    const placed = this.place(cmd.placements, timeMs);
    // Tasks not placed, or whose placement was refused, go to the rounds, queued in the job's order.
    for (const rec of recs) {
      if (!rec.queued && rec.task.state === TaskState.PENDING && rec.task.waitingOn.length === 0) this.enqueue(rec, timeMs);
    }
    return { kind: 'submitted', jobId: job.id, duplicate: false, placed };
  }

  /**
   * Each task's dependencies as indexes into the job's tasks (dependencies
   * name tasks of the same job), or what is wrong. A job without any (the
   * common case) builds no name index: every task shares one empty list.
   */
  private resolveDependencies(jobId: string, tasks: readonly Task[]): number[][] | string {
    if (!hasDependencies(tasks)) return tasks.map(() => NO_DEPENDENCIES);
    const byName = new Map<string, number[]>();
    tasks.forEach((t, i) => {
      const name = t.spec?.name ?? '';
      const same = byName.get(name);
      // Pushed, not copied: a job of n tasks sharing one name was O(n²) here.
      if (same) same.push(i);
      else byName.set(name, [i]);
    });
    const deps: number[][] = [];
    for (const t of tasks) {
      const d: number[] = [];
      for (const name of t.spec?.dependsOn ?? []) {
        const found = byName.get(name);
        if (!found) return `job ${jobId}: task "${t.spec?.name}" depends on "${name}", which is not in the job`;
        d.push(...found);
      }
      deps.push(d);
    }
    return deps;
  }

  /** The duration a task is expected to take, as submission predicts it: its history, else what its spec says. */
  predictedMs(jobName: string, spec: TaskSpec | undefined): number {
    return this.durations.predict(DurationModel.key(jobName, spec?.name ?? '')) ?? spec?.expectedDurationMs ?? 0;
  }

  private enqueue(rec: TaskRecord, timeMs: bigint): void {
    rec.enqueuedMs = Number(timeMs);
    rec.notBeforeMs = Number(rec.task.notBeforeMs);
    this.queue.add(rec, rec.enqueuedMs);
  }

  /** Starts the placed attempts that are still possible; refused ones change nothing. */
  private place(placements: Placement[], timeMs: bigint): Placed {
    const accepted: PlacementOutcome[] = [];
    const rejected: AttemptKey[] = [];
    for (const p of placements) {
      const rec = p.key ? this.tasks.get(p.key.taskId) : undefined;
      const worker = this.workers.get(p.workerId);
      const ok =
        rec && p.key && worker &&
        rec.task.state === TaskState.PENDING &&
        rec.task.waitingOn.length === 0 &&
        timeMs >= rec.task.notBeforeMs &&
        p.key.attempt === rec.task.attempt + 1 &&
        worker.state === WorkerState.ONLINE &&
        breakerAllows(worker.breaker, timeMs) !== 'none';
      const demand = ok ? demandOf(rec.task.spec?.requirements) : undefined;
      // A task that asks for nothing holds nothing: no need to work out what is free.
      const holding = demand === NO_DEMAND ? NO_RESOURCES : demand && allocate(demand, this.freeOn(worker!));
      if (!ok || !rec || !p.key || !worker || !holding) {
        if (p.key) rejected.push(p.key);
        continue;
      }
      if (breakerAllows(worker.breaker, timeMs) === 'probe') worker.breaker!.probing = true;
      this.queue.removeEntry(rec);
      if (rec.watchPos >= 0) this.deadlineWatch.remove(rec);
      rec.task.attempt = p.key.attempt;
      rec.task.workerId = p.workerId;
      rec.task.pendingReason = '';
      rec.holding = holding;
      let used = this.usedByWorker.get(p.workerId);
      if (!used) this.usedByWorker.set(p.workerId, (used = emptyResources()));
      addResources(used, holding, 1);
      const tu = this.tenant(rec.tenant);
      tu.queued--;
      tu.running++;
      this.pendingCount--;
      this.setTaskState(rec, TaskState.RUNNING);
      this.running(p.workerId).add(rec.task.id);
      accepted.push({ key: p.key, workerId: p.workerId, task: rec.task });
      this.events.push({
        case: 'attemptStarted',
        value: { $typeName: 'dtf.result.v1.AttemptStarted', key: p.key, jobId: rec.task.jobId, workerId: p.workerId },
      });
    }
    return { accepted, rejected };
  }

  private finishAttempts(cmd: FinishAttempts, timeMs: bigint): ApplyResult {
    const accepted: AttemptKey[] = [];
    const rejected: AttemptKey[] = [];
    // Per result, in command order: one entry may carry the results of many
    // workers, and each must hear about its own.
    const recorded: boolean[] = [];
    for (const result of cmd.results) {
      const ok = this.finishOne(result, timeMs, true);
      recorded.push(ok);
      if (ok) accepted.push(result.key!);
      else if (result.key) rejected.push(result.key);
    }
    return { kind: 'finished', accepted, rejected, recorded };
  }

  /**
   * Records one attempt's result; false when the attempt is not current.
   * `breaker`: whether the outcome counts for the worker's circuit breaker.
   */
  private finishOne(result: AttemptResult, timeMs: bigint, breaker: boolean): boolean {
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
    const workerId = task.workerId;
    this.runningByWorker.get(workerId)?.delete(task.id);
    const used = this.usedByWorker.get(workerId);
    if (used && rec.holding) addResources(used, rec.holding, -1);
    rec.holding = undefined;
    task.workerId = '';
    task.result = result;
    if (rec.attempts === NONE) rec.attempts = [];
    rec.attempts.push(result);
    this.events.push({
      case: 'attemptFinished',
      value: { $typeName: 'dtf.result.v1.AttemptFinished', jobId: task.jobId, result },
    });
    const worker = this.workers.get(workerId);
    if (breaker && worker) {
      const b = (worker.breaker ??= newBreaker());
      if (isInfraFailure(result.outcome)) breakerFailed(b, this.options.breaker, timeMs, describeOutcome(result));
      else if (result.outcome === AttemptOutcome.CANCELLED || result.outcome === AttemptOutcome.HANDED_BACK) b.probing = false; // no verdict: probe again
      else breakerSucceeded(b);
    }
    if (task.state === TaskState.CANCELLED) {
      this.tenant(rec.tenant).running--;
      return true;
    }
    this.tenant(rec.tenant).running--;
    if (result.outcome === AttemptOutcome.SUCCEEDED && result.finishedAtMs > result.startedAtMs && result.startedAtMs > 0n) {
      const job = this.jobs.get(task.jobId)!.job;
      this.durations.observe(DurationModel.key(job.name, task.spec?.name ?? ''), Number(result.finishedAtMs - result.startedAtMs));
    }
    if (result.outcome === AttemptOutcome.WORKER_LOST) rec.lost++;
    const next = decideRetry(result.outcome, task.spec, { lost: rec.lost, budgeted: rec.budgeted });
    if (next.budgeted) rec.budgeted++;
    if (next.state === TaskState.PENDING) {
      // A hand-back was never run: no reason to wait.
      task.notBeforeMs = result.outcome === AttemptOutcome.HANDED_BACK ? 0n : timeMs + BigInt(backoffMs(task.spec, task.attempt));
      task.pendingReason = `retry ${task.attempt} after ${describeOutcome(result)}; not before ${describeMs(Number(task.notBeforeMs - timeMs))} from then`;
      this.pendingCount++;
      this.tenant(rec.tenant).queued++;
      this.setTaskState(rec, TaskState.PENDING, timeMs);
      this.enqueue(rec, timeMs);
    } else {
      this.setTaskState(rec, next.state, timeMs);
    }
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
      breaker: prev?.breaker ?? newBreaker(),
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
    const running = this.runningOn(w.id);
    // Losing the worker is one failure of it, however many attempts it held.
    if (running.length > 0) breakerFailed((w.breaker ??= newBreaker()), this.options.breaker, timeMs, `worker lost: ${cmd.reason}`);
    for (const task of running) {
      const key = { $typeName: 'dtf.common.v1.AttemptKey' as const, taskId: task.id, attempt: task.attempt };
      const result = create(AttemptResultSchema, {
        key,
        outcome: AttemptOutcome.WORKER_LOST,
        finishedAtMs: timeMs,
        error: `worker ${w.id} lost: ${cmd.reason}`,
        workerId: w.id,
      });
      // Cancelled tasks stay cancelled and exhausted ones end: only report real re-queues.
      if (this.finishOne(result, timeMs, false) && task.state === TaskState.PENDING) requeued.push(key);
    }
    return { kind: 'lost', requeued };
  }

  private setWorkerFlags(cmd: SetWorkerFlags): ApplyResult {
    const w = this.workers.get(cmd.workerId);
    if (!w) return { kind: 'error', message: `no worker ${cmd.workerId}` };
    if (cmd.cordoned !== undefined) w.cordoned = cmd.cordoned;
    if (cmd.draining !== undefined) w.draining = cmd.draining;
    if (cmd.clearQuarantine) clearBreaker((w.breaker ??= newBreaker()));
    return { kind: 'ok' };
  }

  private cancelTasks(cmd: CancelTasks, timeMs: bigint): ApplyResult {
    const running: { key: AttemptKey; workerId: string }[] = [];
    for (const id of cmd.taskIds) {
      const rec = this.tasks.get(id);
      if (!rec || isFinal(rec.task.state)) continue;
      const task = rec.task;
      if (task.state === TaskState.RUNNING) {
        running.push({ key: { $typeName: 'dtf.common.v1.AttemptKey', taskId: id, attempt: task.attempt }, workerId: task.workerId });
      }
      task.pendingReason = cmd.reason;
      this.setTaskState(rec, TaskState.CANCELLED, timeMs);
    }
    return { kind: 'cancelled', running };
  }

  /** Warns about pending tasks that can no longer start in time for their deadline. */
  private checkDeadlines(timeMs: bigint): void {
    const now = Number(timeMs);
    for (let rec = this.deadlineWatch.peek(); rec && rec.latestStartMs < now; rec = this.deadlineWatch.peek()) {
      this.deadlineWatch.pop();
      const deadline = Number(rec.task.spec?.deadlineMs ?? 0n);
      const left = deadline - now;
      this.warn(rec, left <= 0
        ? `deadline passed ${describeMs(-left)} ago before it could start`
        : `deadline can no longer be met: not started, needs ~${describeMs(rec.task.predictedDurationMs)}, ${describeMs(left)} left`);
    }
  }

  private warn(rec: TaskRecord, message: string): void {
    rec.task.warnings = [...rec.task.warnings, message];
    const job = this.jobs.get(rec.task.jobId)!.job;
    if (job.warnings.length < jobWarningsMax) job.warnings.push(`task "${rec.task.spec?.name || rec.task.id}": ${message}`);
    else job.warnings[jobWarningsMax - 1] = `…and more warnings (see the tasks)`;
  }

  private running(workerId: string): Set<string> {
    let s = this.runningByWorker.get(workerId);
    if (!s) this.runningByWorker.set(workerId, (s = new Set()));
    return s;
  }

  /**
   * Moves a task to `state`, keeping its job's counts and state, the queue
   * and its dependents in step.
   */
  private setTaskState(rec: TaskRecord, state: TaskState, timeMs?: bigint): void {
    const task = rec.task;
    const job = this.jobs.get(task.jobId)!.job;
    const counts = job.counts!;
    if (task.state === TaskState.PENDING && state !== TaskState.PENDING && state !== TaskState.RUNNING) {
      // A pending task ending here (cancelled, skipped) leaves the queue.
      this.queue.removeEntry(rec);
      if (rec.watchPos >= 0) this.deadlineWatch.remove(rec);
      this.pendingCount--;
      this.tenant(rec.tenant).queued--;
    }
    adjustCount(counts, task.state, -1);
    adjustCount(counts, state, +1);
    task.state = state;
    if (isFinal(state)) {
      task.finishedAtMs = timeMs ?? 0n;
      this.events.push({
        case: 'taskFinished',
        value: { $typeName: 'dtf.result.v1.TaskFinished', taskId: task.id, jobId: task.jobId, state, attempts: task.attempt },
      });
      this.release(rec, state, timeMs ?? 0n);
    }
    const before = job.state;
    job.state = deriveJobState(counts);
    if (job.state !== before && isJobFinal(job.state)) {
      job.finishedAtMs = timeMs ?? 0n;
      this.events.push({ case: 'jobFinished', value: { $typeName: 'dtf.result.v1.JobFinished', job: jobSnapshot(job) } });
    }
  }

  /** A task ended: its dependents become ready, or are skipped when it did not succeed. */
  private release(rec: TaskRecord, state: TaskState, timeMs: bigint): void {
    const name = rec.task.spec?.name || rec.task.id;
    for (const id of rec.dependents ?? []) {
      const dep = this.tasks.get(id)!;
      if (dep.task.state !== TaskState.PENDING) continue;
      if (state === TaskState.SUCCEEDED) {
        dep.task.waitingOn = dep.task.waitingOn.filter((w) => w !== rec.task.id);
        if (dep.task.waitingOn.length === 0) this.enqueue(dep, timeMs);
      } else {
        dep.task.pendingReason = `skipped: dependency "${name}" ${state === TaskState.SKIPPED ? 'was skipped' : state === TaskState.CANCELLED ? 'was cancelled' : 'did not succeed'}`;
        this.setTaskState(dep, TaskState.SKIPPED, timeMs);
      }
    }
  }
}

function describeOutcome(r: AttemptResult): string {
  const name = (AttemptOutcome[r.outcome] ?? 'unknown').toLowerCase().replace(/_/g, ' ');
  return r.error ? `${name}: ${r.error}` : name;
}

/** "1.5 s", "3 min", "2.0 h": durations for people. */
export function describeMs(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** A task as it was submitted: its own fields copied, its (immutable) spec shared. */
function submittedSnapshot(task: Task): Task {
  return newTask({ id: task.id, jobId: task.jobId, spec: task.spec, state: task.state, createdAtMs: task.createdAtMs });
}

function adjustCount(c: Job['counts'] & object, state: TaskState, delta: number): void {
  switch (state) {
    case TaskState.PENDING: c.pending += delta; break;
    case TaskState.RUNNING: c.running += delta; break;
    case TaskState.SUCCEEDED: c.succeeded += delta; break;
    case TaskState.FAILED: c.failed += delta; break;
    case TaskState.CANCELLED: c.cancelled += delta; break;
    case TaskState.ERRORED: c.errored += delta; break;
    case TaskState.SKIPPED: c.skipped += delta; break;
    default: break;
  }
}

function isJobFinal(s: JobState): boolean {
  return s === JobState.SUCCEEDED || s === JobState.FAILED || s === JobState.CANCELLED;
}

/** A job is finished when all its tasks are; it failed if any task did not succeed. */
function deriveJobState(c: Job['counts'] & object): JobState {
  if (c.pending + c.running > 0) {
    const started = c.running + c.succeeded + c.failed + c.errored + c.cancelled + c.skipped > 0;
    return started ? JobState.RUNNING : JobState.PENDING;
  }
  if (c.succeeded === c.total) return JobState.SUCCEEDED;
  if (c.cancelled > 0 && c.failed + c.errored === 0) return JobState.CANCELLED;
  return JobState.FAILED;
}
