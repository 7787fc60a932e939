import { Queue } from 'bullmq';
import { BenchChild } from './child';
import { LatencyHistogram } from './hdr';
import type { LatencyLoad, LatencyResult } from './latency-dtf';

/**
 * The same open-loop load on BullMQ: jobs added at a steady rate from a
 * child process (bullmq-submitter.ts), a Worker in another child process
 * with the same concurrency completes them. Latencies come from BullMQ's own
 * job timestamps (added, processed, finished; ms). Jobs added during the
 * warm-up are not recorded.
 */
export async function measureBullmqLatency(redisPort: number, rep: number, load: LatencyLoad): Promise<LatencyResult> {
  const name = `bench-latency-${rep}`;
  const queue = new Queue(name, { connection: { host: '127.0.0.1', port: redisPort } });
  let worker: BenchChild | undefined;
  let submitter: BenchChild | undefined;
  try {
    await queue.waitUntilReady();
    const total = Math.floor((load.ratePerSec * (load.warmupMs + load.durationMs)) / 1000);
    worker = (await BenchChild.start('bullmq-worker.ts', [String(redisPort), name, String(load.workers), String(total)])).child;
    submitter = (await BenchChild.start('bullmq-submitter.ts', [String(redisPort), name])).child;
    submitter.send({ type: 'steady', ratePerSec: load.ratePerSec, durationMs: load.warmupMs + load.durationMs });
    const { sent, startedAtMs } = await submitter.next('done', load.warmupMs + load.durationMs + 120_000) as unknown as { sent: number; startedAtMs: number };
    if (sent >= total) await worker.next('done', 60_000);
    const recordFromMs = startedAtMs + load.warmupMs;
    const toStart = new LatencyHistogram();
    const toResult = new LatencyHistogram();
    const jobs = await queue.getJobs(['completed'], 0, -1);
    for (const j of jobs) {
      if (j.processedOn === undefined || j.finishedOn === undefined || j.timestamp < recordFromMs) continue;
      toStart.record(j.processedOn - j.timestamp);
      toResult.record(j.finishedOn - j.timestamp);
    }
    return { toStart: toStart.summary(), toResult: toResult.summary() };
  } finally {
    await submitter?.stop();
    await worker?.stop();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
  }
}
