/**
 * Child process: N simulated workers, each on its own WorkerService.Connect
 * stream over real gRPC (one connection). A worker "runs" every assignment
 * at once: it answers with a SUCCEEDED result and a credit grant, batching
 * what one stream received in the same tick into one Results message.
 *
 * It is a load generator, so it talks to grpc-js directly (data events and
 * writes, messages built whole) rather than through Connect's async
 * iterators: the layers it skips cost more CPU than the coordinator's own
 * handling of the same messages, and on a 2-core machine that CPU is taken
 * from what is measured.
 *
 * A worker with `prefetch` takes that many tasks beyond its slots, as
 * `dtf worker --prefetch` does: it offers slots + prefetch credits, runs
 * `slots` at a time and queues the rest. Its tasks take no time, so a queued
 * one "runs" the moment the one before it ends, in the same tick.
 *
 * Usage (from the bench): sim-workers.ts <coordinator host:port> <workers> <slots> [prefetch]
 */
import * as grpc from '@grpc/grpc-js';
import { AttemptOutcome, type AttemptResult } from '../libs/gen/dtf/common/v1/common_pb';
import { ConnectRequestSchema, WorkerService, type ConnectRequest, type ConnectResponse } from '../libs/gen/dtf/worker/v1/worker_service_pb';
import { create } from '@bufbuild/protobuf';
import { grpcMessageBytesMax, grpcMethodDefinition } from '../libs/rpc/grpc-method';
import { tellParent } from './child';

const connect = grpcMethodDefinition(WorkerService.method.connect);

/** One simulated worker's stream and the results it has yet to send. */
class SimWorker {
  private call: grpc.ClientDuplexStream<ConnectRequest, ConnectResponse> | undefined;
  private pending: AttemptResult[] = [];
  private flushScheduled = false;
  completed = 0;

  constructor(readonly id: string, private readonly credits: number, private readonly prefetch: number) {}

  /** Opens the stream and says hello; `onWelcome` runs when the coordinator answers. */
  start(client: grpc.Client, onWelcome: () => void): Promise<void> {
    const call = client.makeBidiStreamRequest(connect.path, connect.requestSerialize, connect.responseDeserialize) as grpc.ClientDuplexStream<ConnectRequest, ConnectResponse>;
    this.call = call;
    call.write(create(ConnectRequestSchema, {
      msg: { case: 'hello', value: { workerId: this.id, name: this.id, slots: this.credits, freeSlots: this.credits, prefetch: this.prefetch, version: 'bench' } },
    }));
    call.on('data', (m: ConnectResponse) => {
      if (m.msg.case === 'welcome') onWelcome();
      else this.onMessage(m);
    });
    return new Promise((resolve, reject) => {
      call.on('end', resolve);
      call.on('error', (e: grpc.ServiceError) => (e.code === grpc.status.CANCELLED ? resolve() : reject(e)));
    });
  }

  stop(): void {
    this.call?.cancel();
  }

  private onMessage(m: ConnectResponse): void {
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
    if (results.length === 0 || !this.call) return;
    this.completed += results.length;
    // Whole messages (with their type names), so nothing is copied on the way out.
    this.call.write({ $typeName: 'dtf.worker.v1.ConnectRequest', msg: { case: 'results', value: { $typeName: 'dtf.worker.v1.Results', results, grant: results.length } } });
  }
}

async function main(): Promise<void> {
  const [address, workersArg, slotsArg, prefetchArg = '0'] = process.argv.slice(2);
  const workers = Number(workersArg);
  const slots = Number(slotsArg);
  const prefetch = Number(prefetchArg);
  if (!address || !(workers > 0) || !(slots > 0) || !(prefetch >= 0)) throw new Error('usage: sim-workers.ts <host:port> <workers> <slots> [prefetch]');
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': grpcMessageBytesMax,
    'grpc.max_send_message_length': grpcMessageBytesMax,
  });
  const sims = Array.from({ length: workers }, (_, i) => new SimWorker(`sim-${i + 1}`, slots + prefetch, prefetch));
  let welcomed = 0;
  const streams = sims.map((sim) => sim.start(client, () => {
    if (++welcomed === workers) tellParent({ type: 'ready', workers });
  }));
  process.on('SIGTERM', () => {
    for (const s of sims) s.stop();
    client.close();
    process.exit(0);
  });
  await Promise.all(streams);
}

main().catch((e: Error) => {
  tellParent({ type: 'error', message: e.message });
  process.exit(1);
});
