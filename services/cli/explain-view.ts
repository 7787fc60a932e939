import { TaskState } from '../../libs/gen/dtf/common/v1/common_pb';
import { Verdict, type ExplainTaskResponse } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { renderTable } from './text-table';

/** A verdict for people: Verdict.MISSING_DEVICE → "missing device". */
export function verdictName(v: Verdict): string {
  return (Verdict[v] ?? 'unknown').toLowerCase().replace(/_/g, ' ');
}

/** Where the task stands in its queue, e.g. "3 of 120". */
export function queuePlace(x: ExplainTaskResponse): string {
  if (x.queuePosition === 0) return `not in the ready queue (${x.queueLength} queued for the same workers)`;
  return `${x.queuePosition} of ${x.queueLength}`;
}

/**
 * `dtf explain` for people: the task, the one-line summary, its queue
 * position, then each live worker's verdict and reason.
 */
export function renderExplanation(x: ExplainTaskResponse): string {
  const t = x.task;
  const name = t?.spec?.name ? ` (${t.spec.name})` : '';
  const state = (TaskState[t?.state ?? TaskState.UNSPECIFIED] ?? 'unknown').toLowerCase();
  const lines = [
    `task            ${t?.id ?? ''}${name}, ${state}`,
    `summary         ${x.summary}`,
    `queue position  ${queuePlace(x)}`,
  ];
  // With no live worker at all the flag is set too, but a worker may yet join.
  if (x.neverRunnable && t?.state === TaskState.PENDING && x.workers.length > 0) {
    lines.push('never runnable  no live worker can run it even when idle: change its requirements or add a worker that meets them');
  }
  if (x.workers.length === 0) return [...lines, '', 'no live workers'].join('\n');
  const rows = x.workers.map((w) => [w.workerName, w.workerId, verdictName(w.verdict), w.reason]);
  const able = x.workers.filter((w) => w.verdict === Verdict.ABLE).length;
  const busy = x.workers.filter((w) => w.verdict === Verdict.BUSY).length;
  const tally = `${x.workers.length} live workers: ${able} able with room now, ${busy} busy, ${x.workers.length - able - busy} unable or held back`;
  return [...lines, '', renderTable(['WORKER', 'ID', 'VERDICT', 'REASON'], rows), '', tally].join('\n');
}
