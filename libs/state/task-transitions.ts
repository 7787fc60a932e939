import { TaskState } from '../gen/dtf/common/v1/common_pb';

/** True for the states a task never leaves. */
export function isFinal(state: TaskState): boolean {
  return (
    state === TaskState.SUCCEEDED ||
    state === TaskState.FAILED ||
    state === TaskState.CANCELLED ||
    state === TaskState.ERRORED ||
    state === TaskState.SKIPPED
  );
}
