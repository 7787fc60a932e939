import type { Client } from '@connectrpc/connect';
import type { SchedulerService } from '../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import type { Coordinator } from '../services/coordinator/coordinator';
import type { Collector } from '../services/results/collector';

/** The sizes of the jobs (or bulks) that carry `total` tasks `batch` at a time, the last one smaller. */
export function jobSizes(total: number, batch: number): number[] {
  const sizes: number[] = [];
  for (let left = total; left > 0; left -= batch) sizes.push(Math.min(batch, left));
  return sizes;
}

/** SubmitJob calls in flight at once while a bench submits its load. */
export const submitsInFlightMax = 4;
/** A trial that has not finished after this long has failed, not just been slow. */
export const trialTimeoutMs = 300_000;

/** Submits `total` no-op tasks (`true`) as jobs of `batch` tasks; returns the job ids. */
export async function submitNoopJobs(scheduler: Client<typeof SchedulerService>, total: number, batch: number): Promise<string[]> {
  const sizes = jobSizes(total, batch);
  const ids: string[] = new Array<string>(sizes.length);
  let next = 0;
  const lane = async () => {
    while (next < sizes.length) {
      const i = next++;
      const tasks = Array.from({ length: sizes[i] }, (_, j) => ({ name: `noop-${i}-${j}`, argv: ['true'] }));
      const res = await scheduler.submitJob({ name: `bench-${i}`, tasks });
      ids[i] = res.job!.id;
    }
  };
  await Promise.all(Array.from({ length: Math.min(submitsInFlightMax, sizes.length) }, lane));
  return ids;
}

/**
 * Waits until every task of `jobIds` has succeeded in the coordinator and the
 * collector has stored every event up to then in DuckDB: the end of the
 * end-to-end path. `onProgress` hears the count of succeeded tasks.
 */
export async function waitAllStored(
  coordinator: Coordinator, collector: Collector, jobIds: readonly string[], total: number,
  onProgress: (succeeded: number) => void = () => {},
): Promise<void> {
  const deadline = Date.now() + trialTimeoutMs;
  for (;;) {
    let succeeded = 0;
    let unsuccessful = 0;
    for (const id of jobIds) {
      const c = coordinator.state.jobs.get(id)?.job.counts;
      succeeded += c?.succeeded ?? 0;
      unsuccessful += (c?.failed ?? 0) + (c?.errored ?? 0) + (c?.cancelled ?? 0);
    }
    onProgress(succeeded);
    if (unsuccessful > 0) throw new Error(`${unsuccessful} bench tasks did not succeed; a no-op task must never fail`);
    if (succeeded >= total) break;
    if (Date.now() > deadline) throw new Error(`only ${succeeded} of ${total} tasks succeeded within ${trialTimeoutMs} ms`);
    await coordinator.changes.next(undefined, 1000);
  }
  await collector.waitFor(coordinator.state.events.last, Math.max(1000, deadline - Date.now()));
}
