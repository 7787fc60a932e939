import { Queue } from 'bullmq';
import { performance } from 'node:perf_hooks';
import { BenchChild } from './child';
import { submitsInFlightMax, trialTimeoutMs } from './dtf-jobs';
import type { ThroughputLoad } from './dtf-throughput';

/**
 * One BullMQ trial with the same load as DTF's: add `tasks` no-op jobs in
 * bulks of `batch` (as many bulks in flight as DTF has SubmitJob calls),
 * complete them in a child process with concurrency `workers × slots`, and
 * stop the clock when the last one is completed. Returns jobs per second.
 */
export async function measureBullmqThroughput(redisPort: number, rep: number, load: ThroughputLoad): Promise<number> {
  const name = `bench-throughput-${rep}`;
  const concurrency = load.workers * load.slotsPerWorker;
  const queue = new Queue(name, { connection: { host: '127.0.0.1', port: redisPort } });
  let worker: BenchChild | undefined;
  try {
    await queue.waitUntilReady();
    worker = (await BenchChild.start('bullmq-worker.ts', [String(redisPort), name, String(concurrency), String(load.tasks)])).child;
    const sizes: number[] = [];
    for (let left = load.tasks; left > 0; left -= load.batch) sizes.push(Math.min(load.batch, left));
    const t0 = performance.now();
    const done = worker.next('done', trialTimeoutMs);
    let next = 0;
    const lane = async () => {
      while (next < sizes.length) {
        const i = next++;
        await queue.addBulk(Array.from({ length: sizes[i] }, (_, j) => ({ name: `noop-${i}-${j}`, data: { argv: ['true'] } })));
      }
    };
    await Promise.all(Array.from({ length: Math.min(submitsInFlightMax, sizes.length) }, lane));
    await done;
    const elapsedMs = performance.now() - t0;
    const completed = await queue.getCompletedCount();
    if (completed !== load.tasks) throw new Error(`BullMQ reports ${completed} completed jobs after ${load.tasks} were added`);
    return (load.tasks / elapsedMs) * 1000;
  } finally {
    await worker?.stop();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
  }
}
