import { toJsonString } from '@bufbuild/protobuf';
import {
  AttemptOutcomeSchema, JobStateSchema, RequirementsSchema, TaskState, TaskStateSchema, TestCaseStatusSchema,
  type Job, type Task,
} from '../../libs/gen/dtf/common/v1/common_pb';
import type {
  AttemptFinished, AttemptStarted, Event, JobFinished, TaskFinished,
} from '../../libs/gen/dtf/result/v1/result_service_pb';
import { ColumnBatch, type ColumnValue } from './column-batch';
import { enumNames } from './enum-names';
import {
  attemptsTable, jobUpdatesStage, jobsTable, metricsStage, taskUpdatesStage, tasksTable, testCasesTable,
} from './result-schema';

const taskStates = enumNames(TaskStateSchema);
const jobStates = enumNames(JobStateSchema);
const outcomes = enumNames(AttemptOutcomeSchema);
const testStatuses = enumNames(TestCaseStatusSchema);

/** A task's changes within one batch, merged in event order (later events win). */
interface TaskUpdate { state: string | null; attempts: number | null; finishedAt: number | null }
/** A job's changes within one batch, merged in event order. */
interface JobUpdate { state: string | null; started: boolean; finishedAt: number | null; job: Job | null }

/** Positions of the columns that later events change, in {@link tasksTable} and {@link jobsTable}. */
const taskCol = { state: 3, finishedAt: 8, attempts: 9 } as const;
const jobCol = { state: 3, finishedAt: 5, total: 6, succeeded: 7, failed: 8, cancelled: 9, errored: 10 } as const;

const runningName = taskStates.name(TaskState.RUNNING);

/**
 * Everything one batch of events writes: rows to append and, per task and
 * per job stored by an earlier batch, the merged state change that one
 * set-based UPDATE applies.
 *
 * A task or job submitted in this same batch is not updated afterwards: its
 * later events change its pending row in memory, so it is appended once, in
 * its final state for the batch. Under load most tasks start and finish
 * within the batch that submits them, and an UPDATE of a row appended in the
 * same transaction cost DuckDB more than the append itself. Both paths apply
 * the same rules in the same order, so the rows come out the same however the
 * events are split into batches (result-store.test.ts checks this).
 *
 * Building it is pure, so a malformed event fails before any write.
 */
export class EventRows {
  readonly jobs = new ColumnBatch(jobsTable);
  readonly tasks = new ColumnBatch(tasksTable);
  readonly attempts = new ColumnBatch(attemptsTable);
  readonly testCases = new ColumnBatch(testCasesTable);
  readonly metrics = new ColumnBatch(metricsStage);
  readonly taskUpdates = new Map<string, TaskUpdate>();
  readonly jobUpdates = new Map<string, JobUpdate>();
  /** Rows of `tasks` and `jobs` appended by this batch, by id. */
  private readonly newTasks = new Map<string, number>();
  private readonly newJobs = new Map<string, number>();

  /** Adds one event's rows and changes. */
  add(event: Event): void {
    const kind = event.kind;
    switch (kind.case) {
      case 'jobSubmitted':
        if (kind.value.job) this.addJob(kind.value.job, event.index);
        for (const task of kind.value.tasks) this.addTask(task);
        return;
      case 'attemptStarted':
        return this.addAttemptStarted(kind.value);
      case 'attemptFinished':
        return this.addAttemptFinished(kind.value);
      case 'taskFinished':
        return this.addTaskFinished(kind.value, event.timeMs);
      case 'jobFinished':
        return this.addJobFinished(kind.value);
      default:
        // An event kind this collector predates carries nothing it can store;
        // its index still advances, like every other event's.
        return;
    }
  }

  /** Rows for the job-updates staging table. */
  jobUpdateRows(): ColumnBatch {
    const batch = new ColumnBatch(jobUpdatesStage);
    for (const [jobId, u] of this.jobUpdates) {
      const c = u.job?.counts;
      batch.add([
        jobId, u.state, u.started, u.finishedAt, c ? c.total : null, c ? c.succeeded : null,
        c ? c.failed : null, c ? c.cancelled : null, c ? c.errored : null,
      ]);
    }
    return batch;
  }

  /** Rows for the task-updates staging table. */
  taskUpdateRows(): ColumnBatch {
    const batch = new ColumnBatch(taskUpdatesStage);
    for (const [taskId, u] of this.taskUpdates) batch.add([taskId, u.state, u.attempts, u.finishedAt]);
    return batch;
  }

  private addJob(job: Job, index: bigint): void {
    const c = job.counts;
    this.newJobs.set(job.id, this.jobs.add([
      job.id, job.name, job.idempotencyKey, jobStates.name(job.state), millisToTimestamp(job.submittedAtMs),
      millisToTimestamp(job.finishedAtMs), c?.total ?? 0, c?.succeeded ?? 0, c?.failed ?? 0,
      c?.cancelled ?? 0, c?.errored ?? 0, JSON.stringify(job.labels), index,
    ]));
  }

  private addTask(task: Task): void {
    const spec = task.spec;
    const requirements = spec?.requirements ? toJsonString(RequirementsSchema, spec.requirements) : '{}';
    this.newTasks.set(task.id, this.tasks.add([
      task.id, task.jobId, spec?.name ?? '', taskStates.name(task.state), spec?.priority ?? 0,
      requirements, mapJson(spec?.tags), millisToTimestamp(task.createdAtMs),
      millisToTimestamp(task.finishedAtMs), task.attempt, spec?.shell ?? '',
      JSON.stringify(spec?.argv ?? []), spec?.workingDir ?? '', spec?.timeoutMs ?? 0, spec?.retries ?? 0,
    ]));
  }

  private addAttemptStarted(started: AttemptStarted): void {
    const key = started.key;
    if (!key) return;
    this.changeTask(key.taskId, runningName, key.attempt, null);
    const row = this.newJobs.get(started.jobId);
    if (row === undefined) {
      this.jobUpdate(started.jobId).started = true;
    } else if (this.jobs.columns[jobCol.state][row] === 'pending') {
      this.jobs.columns[jobCol.state][row] = 'running';
    }
  }

  private addAttemptFinished(finished: AttemptFinished): void {
    const r = finished.result;
    if (!r?.key) throw new Error(`attempt_finished for job ${finished.jobId} has no result key`);
    const { taskId, attempt } = r.key;
    const duration = r.finishedAtMs > 0n && r.startedAtMs > 0n ? Number(r.finishedAtMs - r.startedAtMs) : null;
    this.attempts.add([
      taskId, finished.jobId, attempt, r.workerId, outcomes.name(r.outcome), r.exitCode, r.signal,
      millisToTimestamp(r.startedAtMs), millisToTimestamp(r.finishedAtMs), duration,
      r.usage?.cpuPercentMax ?? null, r.usage?.memoryBytesMax ?? null, r.error, r.stdoutTail, r.stderrTail,
    ]);
    for (const tc of r.testCases) {
      this.testCases.add([
        taskId, finished.jobId, attempt, tc.suite, tc.classname, tc.name, testStatuses.name(tc.status),
        tc.durationSeconds, tc.message,
      ]);
    }
    for (const m of r.metrics) this.metrics.add([taskId, finished.jobId, attempt, m.name, m.value, m.unit]);
  }

  private addTaskFinished(finished: TaskFinished, timeMs: bigint): void {
    this.changeTask(finished.taskId, taskStates.name(finished.state), finished.attempts, millisToTimestamp(timeMs));
  }

  /**
   * The rules of `updateTasksSql`, applied to a row of this batch in place
   * or merged into the task's pending update: the state and a set finish
   * time replace the old ones, the attempt count only grows.
   */
  private changeTask(taskId: string, state: string, attempts: number, finishedAt: number | null): void {
    const row = this.newTasks.get(taskId);
    if (row === undefined) {
      const u = this.taskUpdate(taskId);
      u.state = state;
      u.attempts = Math.max(u.attempts ?? 0, attempts);
      if (finishedAt !== null) u.finishedAt = finishedAt;
      return;
    }
    const cols = this.tasks.columns;
    cols[taskCol.state][row] = state;
    cols[taskCol.attempts][row] = Math.max(cols[taskCol.attempts][row] as number, attempts);
    if (finishedAt !== null) cols[taskCol.finishedAt][row] = finishedAt;
  }

  /** The rules of `updateJobsSql`, likewise: state, a set finish time and the final counts. */
  private addJobFinished(finished: JobFinished): void {
    const job = finished.job;
    if (!job) return;
    const state = jobStates.name(job.state);
    const finishedAt = millisToTimestamp(job.finishedAtMs);
    const row = this.newJobs.get(job.id);
    if (row === undefined) {
      const u = this.jobUpdate(job.id);
      u.state = state;
      if (finishedAt !== null) u.finishedAt = finishedAt;
      if (job.counts) u.job = job;
      return;
    }
    const cols = this.jobs.columns;
    const set = (col: number, value: ColumnValue) => { cols[col][row] = value; };
    set(jobCol.state, state);
    if (finishedAt !== null) set(jobCol.finishedAt, finishedAt);
    const c = job.counts;
    if (c) {
      set(jobCol.total, c.total);
      set(jobCol.succeeded, c.succeeded);
      set(jobCol.failed, c.failed);
      set(jobCol.cancelled, c.cancelled);
      set(jobCol.errored, c.errored);
    }
  }

  private taskUpdate(taskId: string): TaskUpdate {
    let u = this.taskUpdates.get(taskId);
    if (!u) this.taskUpdates.set(taskId, (u = { state: null, attempts: null, finishedAt: null }));
    return u;
  }

  private jobUpdate(jobId: string): JobUpdate {
    let u = this.jobUpdates.get(jobId);
    if (!u) this.jobUpdates.set(jobId, (u = { state: null, started: false, finishedAt: null, job: null }));
    return u;
  }
}

/** A map field as JSON; most tasks have no tags, and their '{}' is one shared string. */
function mapJson(map: Record<string, string> | undefined): string {
  for (const _ in map) return JSON.stringify(map);
  return '{}';
}

/** Proto times are epoch milliseconds with 0 meaning "not set"; DuckDB gets NULL for those, else microseconds. */
export function millisToTimestamp(ms: bigint): number | null {
  return ms === 0n ? null : Number(ms) * 1000;
}
