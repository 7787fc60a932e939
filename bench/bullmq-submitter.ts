/**
 * Child process: the BullMQ side of the latency scenario's client. It adds
 * one job per `Queue.add` at a steady rate (open loop), as the DTF
 * submitter does on its side, from a process that does nothing else; in
 * the bench's own process it shared a heap with what the scenarios before it
 * left behind. On {type: 'steady', ratePerSec, durationMs} it answers `done`
 * with the count sent and when it started (wall clock, ms), once every add
 * has been acknowledged.
 *
 * Usage (from the bench): bullmq-submitter.ts <redis port> <queue>
 */
import { Queue } from 'bullmq';
import { tellParent, type ChildMessage } from './child';
import { steadyRate } from './hdr';

async function main(): Promise<void> {
  const [portArg, name] = process.argv.slice(2);
  const port = Number(portArg);
  if (!(port > 0) || !name) throw new Error('usage: bullmq-submitter.ts <redis port> <queue>');
  const queue = new Queue(name, { connection: { host: '127.0.0.1', port } });
  await queue.waitUntilReady();
  process.once('SIGTERM', () => {
    queue.close().finally(() => process.exit(0));
  });
  process.on('message', (m: ChildMessage) => {
    if (m.type !== 'steady') return;
    void (async () => {
      const adds: Promise<unknown>[] = [];
      const startedAtMs = Date.now();
      const sent = await steadyRate(Number(m.ratePerSec), Number(m.durationMs), (i) => adds.push(queue.add(`lat-${i}`, { argv: ['true'] })));
      await Promise.all(adds);
      tellParent({ type: 'done', sent, startedAtMs });
    })().catch((e: Error) => tellParent({ type: 'error', message: e.message }));
  });
  tellParent({ type: 'ready' });
}

main().catch((e: Error) => {
  tellParent({ type: 'error', message: e.message });
  process.exit(1);
});
