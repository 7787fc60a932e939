import type { Requirements, Worker } from '../gen/dtf/common/v1/common_pb';
import { matchesSelector } from './label-selector';
import type { Ranker } from './plugin';

/** A preference's weight lies in ±this; the scores of a task's preferences stay small integers. */
export const preferenceWeightMax = 1000;
/** Most preferences one task may carry. */
export const preferencesMax = 32;

/**
 * How much `worker` suits a task's soft preferences: the sum of the weights
 * of the preferences it satisfies. A label preference is satisfied when the
 * worker's labels match its selector, a device preference when the worker
 * has a device of that kind. Negative weights make a worker less attractive;
 * no preference ever makes one infeasible.
 */
export function preferenceScore(req: Requirements | undefined, worker: Worker): number {
  if (!req || req.preferences.length === 0) return 0;
  let score = 0;
  for (const p of req.preferences) {
    const kind = p.kind;
    const satisfied =
      kind.case === 'label' ? matchesSelector(kind.value, worker.labels) :
      kind.case === 'device' ? (worker.hardware?.devices ?? []).some((d) => d.kind === kind.value) :
      false;
    if (satisfied) score += p.weight;
  }
  return score;
}

/** {@link preferenceScore} as a ranker, for the scheduler's ranking stage. */
export const preferenceRanker: Ranker = {
  name: 'preferences',
  score: (task, worker) => preferenceScore(task.spec?.requirements, worker),
};
