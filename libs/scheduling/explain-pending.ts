import { WorkerState, type Task, type Worker } from '../gen/dtf/common/v1/common_pb';
import { infeasibleReason } from './feasibility';

/** At most this many workers are named in one explanation. */
export const explainedWorkersMax = 8;

/**
 * Says in one line why a pending task is not running: no worker online, no
 * live worker able to run it (with each one's reason), or all able workers busy.
 */
export function explainPending(task: Task, workers: Iterable<Worker>): string {
  const live = [...workers].filter((w) => w.state === WorkerState.ONLINE);
  if (live.length === 0) return 'no worker is online';
  const reasons: string[] = [];
  let feasible = 0;
  for (const w of live) {
    const why = infeasibleReason(task.spec?.requirements, w);
    if (why === undefined) feasible++;
    else reasons.push(`${w.name || w.id}: ${why}`);
  }
  if (feasible > 0) return `waiting for a free slot on ${feasible} able worker${feasible > 1 ? 's' : ''}`;
  const shown = reasons.slice(0, explainedWorkersMax);
  const more = reasons.length > shown.length ? `; and ${reasons.length - shown.length} more` : '';
  return `no live worker can run it: ${shown.join('; ')}${more}`;
}
