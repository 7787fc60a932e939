import { AttemptOutcome as AttemptOutcomeEnum, TaskState as TaskStateEnum, type TaskSpec } from '../gen/dtf/common/v1/common_pb';

/* The enums, read once: see coordinator-state.ts. */
const AttemptOutcome = AttemptOutcomeEnum;
type AttemptOutcome = AttemptOutcomeEnum;
const TaskState = TaskStateEnum;
type TaskState = TaskStateEnum;

/**
 * A lost worker is not the task's fault: such attempts are retried without
 * using the task's own budget, up to this many in all (plus the budget), so a
 * task that kills every worker it lands on cannot loop forever.
 */
export const workerLostRetriesMax = 5;
export const backoffInitialMsDefault = 1000;
export const backoffMultiplierDefault = 2;
export const backoffMaxMsDefault = 60_000;

/** What the attempts so far have used. */
export interface RetryCounts {
  /** Attempts ended by a lost worker. */
  lost: number;
  /** Retries taken from the task's budget (timeouts, start failures, asked-for test failures). */
  budgeted: number;
}

/** What a task becomes after an attempt, and whether the retry used its budget. */
export interface RetryDecision {
  state: TaskState;
  budgeted: boolean;
}

/** True for outcomes that are the infrastructure's doing rather than the test's. */
export function isInfraFailure(outcome: AttemptOutcome): boolean {
  return outcome === AttemptOutcome.WORKER_LOST || outcome === AttemptOutcome.TIMED_OUT || outcome === AttemptOutcome.START_FAILED;
}

/**
 * Decides what a task becomes after an attempt ends: pending again (a retry)
 * or final. Test failures are retried only when the task asks for it;
 * timeouts and start failures use the `retries` budget; lost workers have a
 * budget of their own.
 */
export function decideRetry(outcome: AttemptOutcome, spec: TaskSpec | undefined, counts: RetryCounts): RetryDecision {
  const retries = spec?.retries ?? 0;
  const budgetLeft = counts.budgeted < retries;
  switch (outcome) {
    case AttemptOutcome.SUCCEEDED:
      return { state: TaskState.SUCCEEDED, budgeted: false };
    case AttemptOutcome.CANCELLED:
      return { state: TaskState.CANCELLED, budgeted: false };
    case AttemptOutcome.HANDED_BACK:
      return { state: TaskState.PENDING, budgeted: false };
    case AttemptOutcome.FAILED:
      return spec?.retry?.onTestFailure && budgetLeft ? { state: TaskState.PENDING, budgeted: true } : { state: TaskState.FAILED, budgeted: false };
    case AttemptOutcome.TIMED_OUT:
    case AttemptOutcome.START_FAILED:
      return budgetLeft ? { state: TaskState.PENDING, budgeted: true } : { state: TaskState.ERRORED, budgeted: false };
    case AttemptOutcome.WORKER_LOST:
    default:
      return counts.lost < workerLostRetriesMax + retries ? { state: TaskState.PENDING, budgeted: false } : { state: TaskState.ERRORED, budgeted: false };
  }
}

/** Delay before retry number `n` (1 for the first): initial × multiplier^(n-1), capped. */
export function backoffMs(spec: TaskSpec | undefined, n: number): number {
  const p = spec?.retry;
  const initial = p?.initialBackoffMs || backoffInitialMsDefault;
  const mult = p?.multiplier && Number.isFinite(p.multiplier) && p.multiplier >= 1 ? p.multiplier : backoffMultiplierDefault;
  const max = p?.maxBackoffMs || backoffMaxMsDefault;
  return Math.min(max, Math.round(initial * mult ** Math.max(0, n - 1)));
}
