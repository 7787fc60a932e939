import { TaskState as TaskStateEnum } from '../gen/dtf/common/v1/common_pb';

/*
 * The enums, read once (as in dispatcher.ts): under tsx, a member read
 * through the generated module's exports is a getter call, and those
 * getters showed in the coordinator's profiles (~1.5% of samples); these
 * are read several times per task.
 */
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
