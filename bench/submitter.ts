/**
 * Child process: the client side of a DTF bench, submitting jobs over gRPC
 * from its own process, as a CI system or `dtf run` would. In the
 * coordinator's process the client's own work (encoding, HTTP/2 requests,
 * per-call signals) took a fifth of the event loop being measured.
 *
 * Two modes, chosen by the first message from the bench:
 * - `bulk` {total, batch}: `total` no-op tasks in jobs of `batch`, a few
 *   SubmitJob calls in flight; answers `done` with the job ids.
 * - `steady` {ratePerSec, durationMs}: one-task jobs `lat-<i>` at a steady
 *   rate (open loop) over one SubmitJobs stream, as a client that submits
 *   at such rates would; answers `done` with each job's submit time (wall ms).
 *   A unary call per job cost this process about a millisecond of CPU in
 *   grpc-js's client (and the coordinator a few hundred microseconds), so at
 *   1,000 jobs/s the client's own queue was most of the latency measured.
 *
 * Usage (from the bench): submitter.ts <coordinator host:port>
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import * as grpc from '@grpc/grpc-js';
import {
  SchedulerService,
  SubmitJobsRequestSchema,
  type SubmitJobRequestSchema,
  type SubmitJobsRequest,
  type SubmitJobsResponse,
} from '../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { grpcMethodDefinition } from '../libs/rpc/grpc-method';
import { createGrpcTransport } from '../libs/rpc/grpc-transport';
import { tellParent, type ChildMessage } from './child';
import { submitNoopJobs } from './dtf-jobs';
import { steadyRate } from './hdr';

const submitJobs = grpcMethodDefinition(SchedulerService.method.submitJobs);
const wallMs = () => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const [address] = process.argv.slice(2);
  if (!address) throw new Error('usage: submitter.ts <host:port>');
  const transport = createGrpcTransport(address);
  const scheduler = createClient(SchedulerService, transport);
  process.on('SIGTERM', () => {
    transport.close();
    process.exit(0);
  });
  process.on('message', (m: ChildMessage) => {
    run(address, scheduler, m).then(
      (done) => tellParent({ type: 'done', ...done }),
      (e: Error) => tellParent({ type: 'error', message: e.message }),
    );
  });
  tellParent({ type: 'ready' });
}

/**
 * A SubmitJobs stream on grpc-js directly (messages built whole, our codecs):
 * a load generator should spend its CPU on the load, not on client layers.
 * `close` ends the stream and resolves once every job is answered; a
 * refused job fails it.
 */
function openSubmitStream(address: string): { submit(ref: number, job: MessageInitShape<typeof SubmitJobRequestSchema>): void; close(): Promise<void> } {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const call = client.makeBidiStreamRequest(submitJobs.path, submitJobs.requestSerialize, submitJobs.responseDeserialize) as grpc.ClientDuplexStream<SubmitJobsRequest, SubmitJobsResponse>;
  let answered = 0;
  let sent = 0;
  let failure: Error | undefined;
  call.on('data', (a: SubmitJobsResponse) => {
    answered++;
    if (a.outcome.case === 'error') failure ??= new Error(`job ${a.ref} refused: ${a.outcome.value.message}`);
  });
  const ended = new Promise<void>((resolve, reject) => {
    call.on('end', resolve);
    call.on('error', reject);
  });
  return {
    submit(ref, job) {
      sent++;
      call.write(create(SubmitJobsRequestSchema, { ref: BigInt(ref), job }));
    },
    async close() {
      call.end();
      await ended.finally(() => client.close());
      if (failure) throw failure;
      if (answered !== sent) throw new Error(`${sent - answered} of ${sent} submissions were not answered`);
    },
  };
}

async function run(address: string, scheduler: ReturnType<typeof createClient<typeof SchedulerService>>, m: ChildMessage): Promise<Record<string, unknown>> {
  if (m.type === 'bulk') {
    return { jobIds: await submitNoopJobs(scheduler, Number(m.total), Number(m.batch)) };
  }
  if (m.type === 'steady') {
    const submittedAtMs: number[] = [];
    const stream = openSubmitStream(address);
    const sent = await steadyRate(Number(m.ratePerSec), Number(m.durationMs), (i) => {
      submittedAtMs[i] = wallMs();
      stream.submit(i, { name: `lat-${i}`, tasks: [{ argv: ['true'] }] });
    });
    await stream.close();
    return { sent, submittedAtMs };
  }
  throw new Error(`unknown submitter command "${m.type}"`);
}

main().catch((e: Error) => {
  tellParent({ type: 'error', message: e.message });
  process.exit(1);
});
