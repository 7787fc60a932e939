/**
 * Child process: the BullMQ side of the throughput baseline. One BullMQ
 * Worker with the same concurrency as DTF's simulated fleet completes no-op
 * jobs; it tells the bench (`done`) each time the count of completed jobs
 * (moved to the completed set in Redis, BullMQ's equivalent of a committed
 * result) reaches one of `totals`: the end of a warm-up, then of the run.
 *
 * Usage (from the bench): bullmq-worker.ts <redis port> <queue> <concurrency> <total>[,<total>...]
 */
import { Worker } from 'bullmq';
import { tellParent } from './child';

async function main(): Promise<void> {
  const [portArg, queue, concurrencyArg, totalArg] = process.argv.slice(2);
  const port = Number(portArg);
  const concurrency = Number(concurrencyArg);
  const totals = new Set((totalArg ?? '').split(',').map(Number));
  if (!(port > 0) || !queue || !(concurrency > 0) || totals.size === 0 || [...totals].some((t) => !(t > 0))) {
    throw new Error('usage: bullmq-worker.ts <port> <queue> <concurrency> <total>[,<total>...]');
  }
  const worker = new Worker(queue, async () => ({ exitCode: 0 }), { connection: { host: '127.0.0.1', port }, concurrency });
  let completed = 0;
  worker.on('completed', () => {
    if (totals.has(++completed)) tellParent({ type: 'done', completed });
  });
  worker.on('failed', (_job, err) => tellParent({ type: 'error', message: `a no-op BullMQ job failed: ${err.message}` }));
  worker.on('error', (err) => tellParent({ type: 'error', message: err.message }));
  await worker.waitUntilReady();
  process.on('SIGTERM', () => {
    worker.close().finally(() => process.exit(0));
  });
  tellParent({ type: 'ready' });
}

main().catch((e: Error) => {
  tellParent({ type: 'error', message: e.message });
  process.exit(1);
});
