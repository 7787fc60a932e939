import { TaskState as TaskStateEnum } from '../gen/dtf/common/v1/common_pb';

/* The enums, read once: see coordinator-state.ts. */
const TaskState = TaskStateEnum;
type TaskState = TaskStateEnum;

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
