import { create } from '@bufbuild/protobuf';
import {
  AttemptOutcome, JobState, TaskState, TestCaseStatus,
} from '../../libs/gen/dtf/common/v1/common_pb';
import { EventSchema, type Event } from '../../libs/gen/dtf/result/v1/result_service_pb';

/**
 * Builders for feed events, shared by the store's tests and its ingest
 * measurement. Times are fixed so that stored rows are deterministic.
 */
export const baseTimeMs = 1_700_000_000_000n;

/** A job submission with `taskCount` tasks named `t0`, `t1`, … tagged with their shard. */
export function jobSubmitted(index: bigint, jobId: string, taskCount: number): Event {
  const tasks = Array.from({ length: taskCount }, (_, i) => ({
    id: `${jobId}-t${i}`,
    jobId,
    state: TaskState.PENDING,
    createdAtMs: baseTimeMs,
    spec: { name: `t${i}`, shell: 'true', tags: { shard: String(i) }, requirements: { cpuCores: 1 } },
  }));
  return create(EventSchema, {
    index,
    timeMs: baseTimeMs,
    kind: {
      case: 'jobSubmitted',
      value: { job: { id: jobId, name: `job ${jobId}`, state: JobState.PENDING, submittedAtMs: baseTimeMs, counts: { total: taskCount, pending: taskCount } }, tasks },
    },
  });
}

/** An attempt start. */
export function attemptStarted(index: bigint, jobId: string, taskId: string, attempt = 1): Event {
  return create(EventSchema, {
    index,
    timeMs: baseTimeMs + index,
    kind: { case: 'attemptStarted', value: { jobId, workerId: 'w1', key: { taskId, attempt } } },
  });
}

/** The test case fields a fixture sets; the rest default. */
export interface TestCaseInit { suite?: string; classname?: string; name?: string; status?: TestCaseStatus; durationSeconds?: number; message?: string }

/** A finished attempt with optional test cases and metrics. */
export function attemptFinished(
  index: bigint, jobId: string, taskId: string,
  extra: { attempt?: number; outcome?: AttemptOutcome; testCases?: TestCaseInit[]; metrics?: { name: string; value: number; unit: string }[] } = {},
): Event {
  return create(EventSchema, {
    index,
    timeMs: baseTimeMs + index,
    kind: {
      case: 'attemptFinished',
      value: {
        jobId,
        result: {
          key: { taskId, attempt: extra.attempt ?? 1 },
          outcome: extra.outcome ?? AttemptOutcome.SUCCEEDED,
          startedAtMs: baseTimeMs,
          finishedAtMs: baseTimeMs + 250n,
          workerId: 'w1',
          stdoutTail: 'ok\n',
          usage: { cpuPercentMax: 42.5, memoryBytesMax: 1n << 40n },
          testCases: (extra.testCases ?? []).map((tc) => ({ status: TestCaseStatus.PASSED, ...tc })),
          metrics: extra.metrics ?? [],
        },
      },
    },
  });
}

/** A task reaching a final state. */
export function taskFinished(index: bigint, jobId: string, taskId: string, state = TaskState.SUCCEEDED, attempts = 1): Event {
  return create(EventSchema, {
    index,
    timeMs: baseTimeMs + index,
    kind: { case: 'taskFinished', value: { jobId, taskId, state, attempts } },
  });
}

/** A job reaching a final state with its final counts. */
export function jobFinished(index: bigint, jobId: string, total: number, failed = 0): Event {
  return create(EventSchema, {
    index,
    timeMs: baseTimeMs + index,
    kind: {
      case: 'jobFinished',
      value: {
        job: {
          id: jobId,
          state: failed > 0 ? JobState.FAILED : JobState.SUCCEEDED,
          finishedAtMs: baseTimeMs + index,
          counts: { total, succeeded: total - failed, failed },
        },
      },
    },
  });
}

/**
 * A task's life that ends in failure after a retry, from index `first` on:
 * attempt 1 lost with its worker, attempt 2 failed, then the task finished
 * FAILED with 2 attempts (five events).
 */
export function retriedThenFailed(first: bigint, jobId: string, taskId: string): Event[] {
  return [
    attemptStarted(first, jobId, taskId, 1),
    attemptFinished(first + 1n, jobId, taskId, { attempt: 1, outcome: AttemptOutcome.WORKER_LOST }),
    attemptStarted(first + 2n, jobId, taskId, 2),
    attemptFinished(first + 3n, jobId, taskId, { attempt: 2, outcome: AttemptOutcome.FAILED }),
    taskFinished(first + 4n, jobId, taskId, TaskState.FAILED, 2),
  ];
}
