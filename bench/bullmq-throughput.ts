import { Queue } from 'bullmq';
import { performance } from 'node:perf_hooks';
import { BenchChild } from './child';
import { jobSizes, submitsInFlightMax, trialTimeoutMs } from './dtf-jobs';
import type { ThroughputLoad } from './dtf-throughput';

/**
 * One BullMQ trial with the same load as DTF's: add `tasks` no-op jobs in
 * bulks of `batch` (as many bulks in flight as DTF has SubmitJob calls),
 * complete them in a child process with concurrency `workers × slots`, and
 * stop the clock when the last one is completed. As for DTF, `warmupTasks`
 * go through first, untimed. Returns jobs per second.
 */
export async function measureBullmqThroughput(redisPort: number, rep: number, load: ThroughputLoad): Promise<number> {
  const name = `bench-throughput-${rep}`;
  const concurrency = load.workers * load.slotsPerWorker;
  const queue = new Queue(name, { connection: { host: '127.0.0.1', port: redisPort } });
  let worker: BenchChild | undefined;
  try {
    await queue.waitUntilReady();
    const all = load.warmupTasks + load.tasks;
    // The worker says `done` when the warm-up's jobs have completed, and again after all of them.
    worker = (await BenchChild.start('bullmq-worker.ts', [String(redisPort), name, String(concurrency), `${load.warmupTasks},${all}`])).child;
    const add = async (prefix: string, total: number) => {
      const sizes = jobSizes(total, load.batch);
      let next = 0;
      const lane = async () => {
        while (next < sizes.length) {
          const i = next++;
          await queue.addBulk(Array.from({ length: sizes[i] }, (_, j) => ({ name: `${prefix}-${i}-${j}`, data: { argv: ['true'] } })));
        }
      };
      await Promise.all(Array.from({ length: Math.min(submitsInFlightMax, sizes.length) }, lane));
    };
    await add('warmup', load.warmupTasks);
    await worker.next('done', trialTimeoutMs);
    const t0 = performance.now();
    const done = worker.next('done', trialTimeoutMs);
    await add('noop', load.tasks);
    await done;
    const elapsedMs = performance.now() - t0;
    const completed = await queue.getCompletedCount();
    if (completed !== all) throw new Error(`BullMQ reports ${completed} completed jobs after ${all} were added`);
    return (load.tasks / elapsedMs) * 1000;
  } finally {
    await worker?.stop();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
  }
}
