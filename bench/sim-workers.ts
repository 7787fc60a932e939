/**
 * Child process: N simulated workers, each on its own WorkerService.Connect
 * stream over real gRPC (one connection). A worker "runs" every assignment
 * at once: it answers with a SUCCEEDED result and a credit grant, batching
 * what one stream received in the same tick into one Results message.
 *
 * Usage (from the bench): sim-workers.ts <coordinator host:port> <workers> <slots>
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { AttemptOutcome, type AttemptResult } from '../libs/gen/dtf/common/v1/common_pb';
import { WorkerService, type ConnectRequestSchema, type ConnectResponse } from '../libs/gen/dtf/worker/v1/worker_service_pb';
import { AsyncQueue } from '../libs/rpc/async-queue';
import { createGrpcTransport } from '../libs/rpc/grpc-transport';
import { tellParent } from './child';

type Request = MessageInitShape<typeof ConnectRequestSchema>;

/** One simulated worker's stream and the results it has yet to send. */
class SimWorker {
  readonly out = new AsyncQueue<Request>();
  private pending: AttemptResult[] = [];
  private flushScheduled = false;
  completed = 0;

  constructor(readonly id: string, private readonly slots: number) {}

  hello(): void {
    this.out.push({ msg: { case: 'hello', value: { workerId: this.id, name: this.id, slots: this.slots, freeSlots: this.slots, version: 'bench' } } });
  }

  onMessage(m: ConnectResponse): void {
    if (m.msg.case !== 'assign') return;
    const nowMs = BigInt(Date.now());
    for (const a of m.msg.value.assignments) {
      this.pending.push({
        $typeName: 'dtf.common.v1.AttemptResult', key: a.key, outcome: AttemptOutcome.SUCCEEDED, exitCode: 0, signal: '',
        startedAtMs: nowMs, finishedAtMs: nowMs, testCases: [], metrics: [], stdoutTail: '', stderrTail: '', error: '', workerId: this.id,
      });
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const results = this.pending;
    this.pending = [];
    if (results.length === 0) return;
    this.completed += results.length;
    this.out.push({ msg: { case: 'results', value: { results } } });
    this.out.push({ msg: { case: 'credit', value: { grant: results.length } } });
  }
}

async function main(): Promise<void> {
  const [address, workersArg, slotsArg] = process.argv.slice(2);
  const workers = Number(workersArg);
  const slots = Number(slotsArg);
  if (!address || !(workers > 0) || !(slots > 0)) throw new Error('usage: sim-workers.ts <host:port> <workers> <slots>');
  const transport = createGrpcTransport(address);
  const client = createClient(WorkerService, transport);
  const sims = Array.from({ length: workers }, (_, i) => new SimWorker(`sim-${i + 1}`, slots));
  let welcomed = 0;
  const streams = sims.map(async (sim) => {
    sim.hello();
    for await (const m of client.connect(sim.out)) {
      if (m.msg.case === 'welcome' && ++welcomed === workers) tellParent({ type: 'ready', workers });
      sim.onMessage(m);
    }
  });
  process.on('SIGTERM', () => {
    for (const s of sims) s.out.end();
    transport.close();
    process.exit(0);
  });
  await Promise.all(streams);
}

main().catch((e: Error) => {
  tellParent({ type: 'error', message: e.message });
  process.exit(1);
});
