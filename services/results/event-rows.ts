import { toJsonString } from '@bufbuild/protobuf';
import { timestampValue, type DuckDBTimestampValue } from '@duckdb/node-api';
import {
  AttemptOutcomeSchema, JobStateSchema, RequirementsSchema, TaskState, TaskStateSchema, TestCaseStatusSchema,
  type Job, type Task,
} from '../../libs/gen/dtf/common/v1/common_pb';
import type {
  AttemptFinished, AttemptStarted, Event, JobFinished, TaskFinished,
} from '../../libs/gen/dtf/result/v1/result_service_pb';
import { ColumnBatch } from './column-batch';
import { enumNames } from './enum-names';
import {
  attemptsTable, jobUpdatesStage, jobsTable, metricsStage, taskUpdatesStage, tasksTable, testCasesTable,
} from './result-schema';

const taskStates = enumNames(TaskStateSchema);
const jobStates = enumNames(JobStateSchema);
const outcomes = enumNames(AttemptOutcomeSchema);
const testStatuses = enumNames(TestCaseStatusSchema);

/** A task's changes within one batch, merged in event order (later events win). */
interface TaskUpdate { state: string | null; attempts: number | null; finishedAt: DuckDBTimestampValue | null }
/** A job's changes within one batch, merged in event order. */
interface JobUpdate { state: string | null; started: boolean; finishedAt: DuckDBTimestampValue | null; job: Job | null }

/**
 * Everything one batch of events writes: rows to append and, per task and
 * per job, the merged state change that one set-based UPDATE applies.
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
    this.jobs.add([
      job.id, job.name, job.idempotencyKey, jobStates.name(job.state), millisToTimestamp(job.submittedAtMs),
      millisToTimestamp(job.finishedAtMs), c?.total ?? 0, c?.succeeded ?? 0, c?.failed ?? 0,
      c?.cancelled ?? 0, c?.errored ?? 0, JSON.stringify(job.labels), index,
    ]);
  }

  private addTask(task: Task): void {
    const spec = task.spec;
    const requirements = spec?.requirements ? toJsonString(RequirementsSchema, spec.requirements) : '{}';
    this.tasks.add([
      task.id, task.jobId, spec?.name ?? '', taskStates.name(task.state), spec?.priority ?? 0,
      requirements, JSON.stringify(spec?.tags ?? {}), millisToTimestamp(task.createdAtMs),
      millisToTimestamp(task.finishedAtMs), task.attempt, spec?.shell ?? '',
      JSON.stringify(spec?.argv ?? []), spec?.workingDir ?? '', BigInt(spec?.timeoutMs ?? 0), spec?.retries ?? 0,
    ]);
  }

  private addAttemptStarted(started: AttemptStarted): void {
    const key = started.key;
    if (!key) return;
    const u = this.taskUpdate(key.taskId);
    u.state = taskStates.name(TaskState.RUNNING);
    u.attempts = Math.max(u.attempts ?? 0, key.attempt);
    this.jobUpdate(started.jobId).started = true;
  }

  private addAttemptFinished(finished: AttemptFinished): void {
    const r = finished.result;
    if (!r?.key) throw new Error(`attempt_finished for job ${finished.jobId} has no result key`);
    const { taskId, attempt } = r.key;
    const duration = r.finishedAtMs > 0n && r.startedAtMs > 0n ? r.finishedAtMs - r.startedAtMs : null;
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
    const u = this.taskUpdate(finished.taskId);
    u.state = taskStates.name(finished.state);
    u.attempts = Math.max(u.attempts ?? 0, finished.attempts);
    u.finishedAt = millisToTimestamp(timeMs);
  }

  private addJobFinished(finished: JobFinished): void {
    const job = finished.job;
    if (!job) return;
    const u = this.jobUpdate(job.id);
    u.state = jobStates.name(job.state);
    u.finishedAt = millisToTimestamp(job.finishedAtMs);
    u.job = job;
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

/** Proto times are epoch milliseconds with 0 meaning "not set"; DuckDB gets NULL for those. */
export function millisToTimestamp(ms: bigint): DuckDBTimestampValue | null {
  return ms === 0n ? null : timestampValue(ms * 1000n);
}
