/**
 * Child process: a fleet of simulated workers that only connect and send
 * heartbeats, spread over several connections, each on its own
 * WorkerService.Connect stream. Tells the parent when all are welcomed.
 *
 * Usage (from the bench): fleet-workers.ts <coordinator host:port> <workers> <heartbeat ms>
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { WorkerService, type ConnectRequestSchema } from '../libs/gen/dtf/worker/v1/worker_service_pb';
import { AsyncQueue } from '../libs/rpc/async-queue';
import { createGrpcTransport, type GrpcTransport } from '../libs/rpc/grpc-transport';
import { tellParent } from './child';

type Request = MessageInitShape<typeof ConnectRequestSchema>;

/** Streams per HTTP/2 connection, well under common concurrent-stream limits. */
const streamsPerConnection = 500;

async function main(): Promise<void> {
  const [address, workersArg, heartbeatArg] = process.argv.slice(2);
  const workers = Number(workersArg);
  const heartbeatMs = Number(heartbeatArg);
  if (!address || !(workers > 0) || !(heartbeatMs > 0)) throw new Error('usage: fleet-workers.ts <host:port> <workers> <heartbeat ms>');
  const transports: GrpcTransport[] = [];
  const queues: AsyncQueue<Request>[] = [];
  let welcomed = 0;
  for (let i = 0; i < workers; i++) {
    if (i % streamsPerConnection === 0) transports.push(createGrpcTransport(address));
    const client = createClient(WorkerService, transports[transports.length - 1]);
    const out = new AsyncQueue<Request>();
    queues.push(out);
    out.push({ msg: { case: 'hello', value: { workerId: `fleet-${i + 1}`, name: `fleet-${i + 1}`, slots: 1, freeSlots: 0, version: 'bench' } } });
    void (async () => {
      for await (const m of client.connect(out)) {
        if (m.msg.case === 'welcome' && ++welcomed === workers) tellParent({ type: 'ready', workers });
      }
    })().catch((e: Error) => tellParent({ type: 'error', message: `fleet-${i + 1}: ${e.message}` }));
    // Spread the start so the coordinator sees a fleet joining, not one burst.
    if (i % 200 === 199) await new Promise((r) => setTimeout(r, 20));
  }
  // Each worker beats on its own phase within the interval, as real ones do.
  let next = 0;
  const perTick = Math.max(1, Math.ceil(workers / (heartbeatMs / 10)));
  setInterval(() => {
    for (let k = 0; k < perTick; k++, next = (next + 1) % workers) {
      queues[next].push({ msg: { case: 'heartbeat', value: { running: [] } } });
    }
  }, 10);
  process.on('SIGTERM', () => {
    for (const q of queues) q.end();
    for (const t of transports) t.close();
    process.exit(0);
  });
}

main().catch((e: Error) => {
  tellParent({ type: 'error', message: e.message });
  process.exit(1);
});
