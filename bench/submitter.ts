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
 *   rate (open loop); answers `done` with each job's submit time (wall ms).
 *
 * Usage (from the bench): submitter.ts <coordinator host:port>
 */
import { createClient } from '@connectrpc/connect';
import { SchedulerService } from '../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { createGrpcTransport } from '../libs/rpc/grpc-transport';
import { tellParent, type ChildMessage } from './child';
import { submitNoopJobs } from './dtf-jobs';
import { steadyRate } from './hdr';

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
    run(scheduler, m).then(
      (done) => tellParent({ type: 'done', ...done }),
      (e: Error) => tellParent({ type: 'error', message: e.message }),
    );
  });
  tellParent({ type: 'ready' });
}

async function run(scheduler: ReturnType<typeof createClient<typeof SchedulerService>>, m: ChildMessage): Promise<Record<string, unknown>> {
  if (m.type === 'bulk') {
    return { jobIds: await submitNoopJobs(scheduler, Number(m.total), Number(m.batch)) };
  }
  if (m.type === 'steady') {
    const submittedAtMs: number[] = [];
    const inflight: Promise<unknown>[] = [];
    const sent = await steadyRate(Number(m.ratePerSec), Number(m.durationMs), (i) => {
      submittedAtMs[i] = wallMs();
      inflight.push(scheduler.submitJob({ name: `lat-${i}`, tasks: [{ argv: ['true'] }] }));
    });
    await Promise.all(inflight);
    return { sent, submittedAtMs };
  }
  throw new Error(`unknown submitter command "${m.type}"`);
}

main().catch((e: Error) => {
  tellParent({ type: 'error', message: e.message });
  process.exit(1);
});
