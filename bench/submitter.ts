/**
 * Child process: the client side of a DTF bench, submitting jobs over gRPC
 * from its own process, as a CI system or `dtf run` would. In the
 * coordinator's process the client's own work (encoding, HTTP/2 requests,
 * per-call signals) took a fifth of the event loop being measured.
 *
 * Two modes, chosen by the first message from the bench:
 * - `bulk` {total, batch}: `total` no-op tasks in jobs of `batch` over one
 *   SubmitJobs stream, a few jobs unanswered at a time (as many as the
 *   BullMQ baseline has addBulk calls in flight); answers `done` with the
 *   job ids. Through Connect's client, building and encoding the requests
 *   cost this process about 1.6× the CPU (the same coordinator work).
 * - `steady` {ratePerSec, durationMs}: one-task jobs `lat-<i>` at a steady
 *   rate (open loop) over one SubmitJobs stream, as a client that submits
 *   at such rates would; answers `done` with each job's submit time (wall ms).
 *   A unary call per job cost this process about a millisecond of CPU in
 *   grpc-js's client (and the coordinator a few hundred microseconds), so at
 *   1,000 jobs/s the client's own queue was most of the latency measured.
 *
 * Usage (from the bench): submitter.ts <coordinator host:port>
 */
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { TaskSpecSchema, type TaskSpec } from '../libs/gen/dtf/common/v1/common_pb';
import {
  SchedulerService,
  SubmitJobRequestSchema,
  type SubmitJobsRequest,
  type SubmitJobsResponse,
} from '../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { grpcMethodDefinition } from '../libs/rpc/grpc-method';
import { tellParent, type ChildMessage } from './child';
import { jobSizes, submitsInFlightMax } from './dtf-jobs';
import { steadyRate } from './hdr';

const submitJobs = grpcMethodDefinition(SchedulerService.method.submitJobs);
const wallMs = () => performance.timeOrigin + performance.now();
/** A no-op task's spec, whole: tasks are copies of it, built without protobuf-es's reflective `create`. */
const noop: TaskSpec = create(TaskSpecSchema, { argv: ['true'] });

async function main(): Promise<void> {
  const [address] = process.argv.slice(2);
  if (!address) throw new Error('usage: submitter.ts <host:port>');
  process.on('SIGTERM', () => process.exit(0));
  process.on('message', (m: ChildMessage) => {
    run(address, m).then(
      (done) => tellParent({ type: 'done', ...done }),
      (e: Error) => tellParent({ type: 'error', message: e.message }),
    );
  });
  tellParent({ type: 'ready' });
}

/**
 * A SubmitJobs stream on grpc-js directly (messages built whole, our codecs):
 * a load generator should spend its CPU on the load, not on client layers.
 * `onAnswer` hears each answer. `close` ends the stream and resolves once
 * every job is answered; a refused job fails it.
 */
function openSubmitStream(address: string, onAnswer: (a: SubmitJobsResponse) => void = () => {}): { submit(ref: number, name: string, tasks: TaskSpec[]): void; close(): Promise<void> } {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const call = client.makeBidiStreamRequest(submitJobs.path, submitJobs.requestSerialize, submitJobs.responseDeserialize) as grpc.ClientDuplexStream<SubmitJobsRequest, SubmitJobsResponse>;
  let answered = 0;
  let sent = 0;
  let failure: Error | undefined;
  call.on('data', (a: SubmitJobsResponse) => {
    answered++;
    if (a.outcome.case === 'error') failure ??= new Error(`job ${a.ref} refused: ${a.outcome.value.message}`);
    onAnswer(a);
  });
  const ended = new Promise<void>((resolve, reject) => {
    call.on('end', resolve);
    call.on('error', reject);
  });
  return {
    submit(ref, name, tasks) {
      sent++;
      const job = create(SubmitJobRequestSchema, { name });
      job.tasks = tasks;
      call.write({ $typeName: 'dtf.scheduler.v1.SubmitJobsRequest', ref: BigInt(ref), job });
    },
    async close() {
      call.end();
      await ended.finally(() => client.close());
      if (failure) throw failure;
      if (answered !== sent) throw new Error(`${sent - answered} of ${sent} submissions were not answered`);
    },
  };
}

/** `total` no-op tasks in jobs of `batch` over one stream, {@link submitsInFlightMax} jobs unanswered at most; the job ids in order. */
async function submitBulk(address: string, total: number, batch: number): Promise<string[]> {
  const sizes = jobSizes(total, batch);
  const ids = new Array<string>(sizes.length);
  let next = 0;
  let unanswered = 0;
  let wake: (() => void) | undefined;
  const stream = openSubmitStream(address, (a) => {
    unanswered--;
    if (a.outcome.case === 'submitted') ids[Number(a.ref)] = a.outcome.value.job?.id ?? '';
    wake?.();
  });
  while (next < sizes.length) {
    while (unanswered < submitsInFlightMax && next < sizes.length) {
      const i = next++;
      unanswered++;
      stream.submit(i, `bench-${i}`, Array.from({ length: sizes[i] }, (_, j) => ({ ...noop, name: `noop-${i}-${j}` })));
    }
    await new Promise<void>((r) => (wake = r));
  }
  await stream.close();
  return ids;
}

async function run(address: string, m: ChildMessage): Promise<Record<string, unknown>> {
  if (m.type === 'bulk') {
    return { jobIds: await submitBulk(address, Number(m.total), Number(m.batch)) };
  }
  if (m.type === 'steady') {
    const submittedAtMs: number[] = [];
    const stream = openSubmitStream(address);
    const sent = await steadyRate(Number(m.ratePerSec), Number(m.durationMs), (i) => {
      submittedAtMs[i] = wallMs();
      stream.submit(i, `lat-${i}`, [noop]);
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
