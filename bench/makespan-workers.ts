/**
 * Child process: workers that "run" each assignment for the time its spec
 * asks (env DTF_SIM_MS), then report success and take the next. Each worker
 * has its own WorkerService.Connect stream over real gRPC.
 *
 * Like `dtf worker --slots 1 --prefetch N`, each runs one task at a time and
 * holds up to N more, started the moment the running one ends.
 *
 * Usage (from the bench): makespan-workers.ts <coordinator host:port> <workers> [prefetch]
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
  const [address, workersArg, prefetchArg] = process.argv.slice(2);
  const workers = Number(workersArg);
  const prefetch = Number(prefetchArg ?? 0);
  if (!address || !(workers > 0)) throw new Error('usage: makespan-workers.ts <host:port> <workers>');
  const transport = createGrpcTransport(address);
  const client = createClient(WorkerService, transport);
  const queues: AsyncQueue<Request>[] = [];
  let welcomed = 0;
  for (let i = 0; i < workers; i++) {
    const id = `mk-${i + 1}`;
    const out = new AsyncQueue<Request>();
    queues.push(out);
    // Credits beyond the one task run at a time: the next assignment waits
    // here, so the worker never idles while its result is being committed.
    const credits = 1 + prefetch;
    out.push({ msg: { case: 'hello', value: { workerId: id, name: id, slots: credits, freeSlots: credits, prefetch, version: 'bench' } } });
    const waiting: { key: unknown; ms: number }[] = [];
    let busy = false;
    const runNext = (): void => {
      const next = waiting.shift();
      if (!next) {
        busy = false;
        return;
      }
      busy = true;
      const started = BigInt(Date.now());
      setTimeout(() => {
        out.push({ msg: { case: 'results', value: { grant: 1, results: [{ key: next.key as never, outcome: AttemptOutcome.SUCCEEDED, workerId: id, startedAtMs: started, finishedAtMs: BigInt(Date.now()) }] } } });
        runNext();
      }, next.ms);
    };
    void (async () => {
      for await (const m of client.connect(out)) {
        if (m.msg.case === 'welcome' && ++welcomed === workers) tellParent({ type: 'ready', workers });
        if (m.msg.case !== 'assign') continue;
        for (const a of m.msg.value.assignments) waiting.push({ key: a.key, ms: Number(a.spec?.env.DTF_SIM_MS ?? 0) });
        if (!busy) runNext();
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
