import { createClient } from '@connectrpc/connect';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { SchedulerService } from '../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { createGrpcTransport } from '../libs/rpc/grpc-transport';
import { Coordinator } from '../services/coordinator/coordinator';
import { BenchChild } from './child';
import { LatencyHistogram, steadyRate, type LatencySummary } from './hdr';

/** The rate and length of one latency trial. */
export interface LatencyLoad {
  ratePerSec: number;
  durationMs: number;
  workers: number;
}

export interface LatencyResult {
  toStart: LatencySummary;
  toResult: LatencySummary;
}

const wallMs = () => performance.timeOrigin + performance.now();

/**
 * Submits one-task jobs at a steady rate to a fresh coordinator whose
 * simulated workers (a child process) finish each at once. Submit-to-start
 * ends when the worker receives the assignment (its clock, in ms);
 * submit-to-result ends when the coordinator applies the committed result.
 */
export async function measureDtfLatency(load: LatencyLoad, onProgress: (done: number) => void): Promise<LatencyResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtf-bench-lat-'));
  const c = await Coordinator.start({ dataDir: dir, listen: '127.0.0.1:0', logger: pino({ level: 'silent' }) });
  const transport = createGrpcTransport(`127.0.0.1:${c.port}`);
  const submitted = new Map<string, number>();
  const toStart = new LatencyHistogram();
  const toResult = new LatencyHistogram();
  let seen = c.state.events.last;
  const previous = c.state.events.onAppend;
  c.state.events.onAppend = () => {
    previous?.();
    const now = wallMs();
    for (const e of c.state.events.after(seen, Number.MAX_SAFE_INTEGER)) {
      seen = e.index;
      if (e.kind.case !== 'attemptFinished') continue;
      const r = e.kind.value.result!;
      // By job name: a result can be applied before its submitter hears back.
      const t0 = submitted.get(c.state.jobs.get(e.kind.value.jobId)?.job.name ?? '');
      if (t0 === undefined) continue;
      toStart.record(Number(r.startedAtMs) - t0);
      toResult.record(now - t0);
    }
  };
  let sim: BenchChild | undefined;
  try {
    sim = (await BenchChild.start('sim-workers.ts', [`127.0.0.1:${c.port}`, String(load.workers), '1'])).child;
    const scheduler = createClient(SchedulerService, transport);
    const inflight: Promise<unknown>[] = [];
    const sent = await steadyRate(load.ratePerSec, load.durationMs, (i) => {
      submitted.set(`lat-${i}`, wallMs());
      inflight.push(scheduler.submitJob({ name: `lat-${i}`, tasks: [{ argv: ['true'] }] }));
    });
    await Promise.all(inflight);
    const deadline = Date.now() + 60_000;
    while (toResult.summary().count < sent && Date.now() < deadline) {
      onProgress(toResult.summary().count);
      await c.changes.next(undefined, 500);
    }
    return { toStart: toStart.summary(), toResult: toResult.summary() };
  } finally {
    await sim?.stop();
    transport.close();
    await c.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
