import { AttemptOutcome, TaskState } from '../gen/dtf/common/v1/common_pb';

/**
 * Attempts lost to infrastructure (the worker died, the process could not
 * start) are retried without using the task's own retry budget, up to this
 * many attempts in all, so a task that kills every worker cannot loop forever.
 */
export const infraAttemptsMax = 5;

/** True for the states a task never leaves. */
export function isFinal(state: TaskState): boolean {
  return (
    state === TaskState.SUCCEEDED ||
    state === TaskState.FAILED ||
    state === TaskState.CANCELLED ||
    state === TaskState.ERRORED
  );
}

/**
 * Decides what a task becomes after an attempt ends: pending again (a retry)
 * or a final state. `attempt` counts from 1; `failedRuns` counts earlier
 * attempts that used the retry budget (FAILED or TIMED_OUT).
 */
export function nextTaskState(
  outcome: AttemptOutcome,
  attempt: number,
  retries: number,
  failedRuns: number,
): TaskState {
  switch (outcome) {
    case AttemptOutcome.SUCCEEDED:
      return TaskState.SUCCEEDED;
    case AttemptOutcome.CANCELLED:
      return TaskState.CANCELLED;
    case AttemptOutcome.FAILED:
      return failedRuns < retries ? TaskState.PENDING : TaskState.FAILED;
    case AttemptOutcome.TIMED_OUT:
      return failedRuns < retries ? TaskState.PENDING : TaskState.ERRORED;
    case AttemptOutcome.WORKER_LOST:
    case AttemptOutcome.START_FAILED:
    default:
      return attempt < infraAttemptsMax + retries ? TaskState.PENDING : TaskState.ERRORED;
  }
}
