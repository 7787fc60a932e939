/**
 * Child process: workers that "run" each assignment for the time its spec
 * asks (env DTF_SIM_MS), then report success and take the next. Each worker
 * has its own WorkerService.Connect stream over real gRPC.
 *
 * Usage (from the bench): makespan-workers.ts <coordinator host:port> <workers>
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { AttemptOutcome } from '../libs/gen/dtf/common/v1/common_pb';
import { WorkerService, type ConnectRequestSchema } from '../libs/gen/dtf/worker/v1/worker_service_pb';
import { AsyncQueue } from '../libs/rpc/async-queue';
import { createGrpcTransport } from '../libs/rpc/grpc-transport';
import { tellParent } from './child';

type Request = MessageInitShape<typeof ConnectRequestSchema>;

async function main(): Promise<void> {
  const [address, workersArg] = process.argv.slice(2);
  const workers = Number(workersArg);
  if (!address || !(workers > 0)) throw new Error('usage: makespan-workers.ts <host:port> <workers>');
  const transport = createGrpcTransport(address);
  const client = createClient(WorkerService, transport);
  const queues: AsyncQueue<Request>[] = [];
  let welcomed = 0;
  for (let i = 0; i < workers; i++) {
    const id = `mk-${i + 1}`;
    const out = new AsyncQueue<Request>();
    queues.push(out);
    out.push({ msg: { case: 'hello', value: { workerId: id, name: id, slots: 1, freeSlots: 1, version: 'bench' } } });
    void (async () => {
      for await (const m of client.connect(out)) {
        if (m.msg.case === 'welcome' && ++welcomed === workers) tellParent({ type: 'ready', workers });
        if (m.msg.case !== 'assign') continue;
        for (const a of m.msg.value.assignments) {
          const ms = Number(a.spec?.env.DTF_SIM_MS ?? 0);
          const started = BigInt(Date.now());
          setTimeout(() => {
            out.push({ msg: { case: 'results', value: { results: [{ key: a.key, outcome: AttemptOutcome.SUCCEEDED, workerId: id, startedAtMs: started, finishedAtMs: BigInt(Date.now()) }] } } });
            out.push({ msg: { case: 'credit', value: { grant: 1 } } });
          }, ms);
        }
      }
    })().catch((e: Error) => tellParent({ type: 'error', message: `${id}: ${e.message}` }));
  }
  process.on('SIGTERM', () => {
    for (const q of queues) q.end();
    transport.close();
    process.exit(0);
  });
}

main().catch((e: Error) => {
  tellParent({ type: 'error', message: e.message });
  process.exit(1);
});
