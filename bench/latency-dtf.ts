import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { Coordinator } from '../services/coordinator/coordinator';
import { BenchChild } from './child';
import { LatencyHistogram, type LatencySummary } from './hdr';

/** The rate and length of one latency trial. */
export interface LatencyLoad {
  ratePerSec: number;
  /** At the start, the same load for this long, not recorded: a fresh process's first second is its JIT compiler's. */
  warmupMs: number;
  durationMs: number;
  workers: number;
}

export interface LatencyResult {
  toStart: LatencySummary;
  toResult: LatencySummary;
}

const wallMs = () => performance.timeOrigin + performance.now();

/**
 * Submits one-task jobs at a steady rate (from a submitter child process)
 * to a fresh coordinator whose simulated workers (another child process)
 * finish each at once. Jobs submitted during the warm-up are not recorded. Submit-to-start
 * ends when the worker receives the assignment (its clock, in ms);
 * submit-to-result ends when the coordinator applies the committed result.
 */
export async function measureDtfLatency(load: LatencyLoad, onProgress: (done: number) => void): Promise<LatencyResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtf-bench-lat-'));
  const c = await Coordinator.start({ dataDir: dir, listen: '127.0.0.1:0', logger: pino({ level: 'silent' }) });
  const address = `127.0.0.1:${c.port}`;
  /** Per job name: when its task started (worker's clock) and its result applied (ms). */
  const seenAt = new Map<string, { startedMs: number; resultMs: number }>();
  let seen = c.state.events.last;
  const previous = c.state.events.onAppend;
  c.state.events.onAppend = () => {
    previous?.();
    const now = wallMs();
    for (const e of c.state.events.after(seen, Number.MAX_SAFE_INTEGER)) {
      seen = e.index;
      if (e.kind.case !== 'attemptFinished') continue;
      // By job name: a result can be applied before its submitter hears back.
      const name = c.state.jobs.get(e.kind.value.jobId)?.job.name;
      if (name !== undefined) seenAt.set(name, { startedMs: Number(e.kind.value.result!.startedAtMs), resultMs: now });
    }
  };
  let sim: BenchChild | undefined;
  let submitter: BenchChild | undefined;
  try {
    sim = (await BenchChild.start('sim-workers.ts', [address, String(load.workers), '1'])).child;
    submitter = (await BenchChild.start('submitter.ts', [address])).child;
    submitter.send({ type: 'steady', ratePerSec: load.ratePerSec, durationMs: load.warmupMs + load.durationMs });
    const { sent, submittedAtMs } = await submitter.next('done', load.warmupMs + load.durationMs + 120_000) as unknown as { sent: number; submittedAtMs: number[] };
    const deadline = Date.now() + 60_000;
    while (seenAt.size < sent && Date.now() < deadline) {
      onProgress(seenAt.size);
      await c.changes.next(undefined, 500);
    }
    const toStart = new LatencyHistogram();
    const toResult = new LatencyHistogram();
    const recordFromMs = submittedAtMs[0] + load.warmupMs;
    for (let i = 0; i < sent; i++) {
      const at = seenAt.get(`lat-${i}`);
      if (!at || submittedAtMs[i] < recordFromMs) continue;
      toStart.record(at.startedMs - submittedAtMs[i]);
      toResult.record(at.resultMs - submittedAtMs[i]);
    }
    return { toStart: toStart.summary(), toResult: toResult.summary() };
  } finally {
    await submitter?.stop();
    await sim?.stop();
    await c.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
