import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
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

/**
 * Submits one-task jobs at a steady rate (from a submitter child process)
 * to a fresh coordinator in a child process of its own (see
 * latency-coordinator.ts), whose simulated workers (another child process)
 * finish each at once. Jobs submitted during the warm-up are not recorded.
 * Submit-to-start ends when the worker receives the assignment (its clock,
 * in ms); submit-to-result ends when the coordinator applies the committed
 * result.
 */
export async function measureDtfLatency(load: LatencyLoad): Promise<LatencyResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtf-bench-lat-'));
  let coordinator: BenchChild | undefined;
  let sim: BenchChild | undefined;
  let submitter: BenchChild | undefined;
  try {
    const started = await BenchChild.start('latency-coordinator.ts', [dir]);
    coordinator = started.child;
    const address = `127.0.0.1:${Number(started.ready.port)}`;
    sim = (await BenchChild.start('sim-workers.ts', [address, String(load.workers), '1'])).child;
    submitter = (await BenchChild.start('submitter.ts', [address])).child;
    submitter.send({ type: 'steady', ratePerSec: load.ratePerSec, durationMs: load.warmupMs + load.durationMs });
    const { sent, submittedAtMs } = await submitter.next('done', load.warmupMs + load.durationMs + 120_000) as unknown as { sent: number; submittedAtMs: number[] };
    const collectMs = 60_000;
    coordinator.send({ type: 'collect', jobs: sent, timeoutMs: collectMs });
    const { startedMs, resultMs } = await coordinator.next('times', collectMs + 30_000) as unknown as { startedMs: (number | null)[]; resultMs: (number | null)[] };
    const toStart = new LatencyHistogram();
    const toResult = new LatencyHistogram();
    const recordFromMs = submittedAtMs[0] + load.warmupMs;
    for (let i = 0; i < sent; i++) {
      const start = startedMs[i];
      const result = resultMs[i];
      if (start === null || result === null || submittedAtMs[i] < recordFromMs) continue;
      toStart.record(start - submittedAtMs[i]);
      toResult.record(result - submittedAtMs[i]);
    }
    return { toStart: toStart.summary(), toResult: toResult.summary() };
  } finally {
    await submitter?.stop();
    await sim?.stop();
    await coordinator?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
