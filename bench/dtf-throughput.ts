import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { ResultService } from '../libs/gen/dtf/result/v1/result_service_pb';
import { inProcessClient } from '../libs/rpc/in-process-client';
import { Coordinator } from '../services/coordinator/coordinator';
import { Collector } from '../services/results/collector';
import { BenchChild } from './child';
import { trialTimeoutMs, waitAllStored } from './dtf-jobs';

/** The shape of one throughput trial; the BullMQ baseline uses the same. */
export interface ThroughputLoad {
  tasks: number;
  workers: number;
  slotsPerWorker: number;
  /** Tasks a DTF worker takes beyond its slots (`dtf worker --prefetch`); BullMQ has no such queue. */
  prefetch: number;
  /** Tasks per SubmitJob (per addBulk for BullMQ). */
  batch: number;
  /**
   * Tasks run first, untimed, by the same processes (BullMQ's too): a fresh
   * process spends its first second in its JIT compiler, and the children
   * are fresh in every trial.
   */
  warmupTasks: number;
}

/**
 * One end-to-end trial on a fresh coordinator and DuckDB file: a submitter
 * child process submits `tasks` no-op tasks, the simulated workers in
 * another child "run" them, and the clock stops when the last result is in
 * DuckDB. Setup (start, workers connecting) and a warm-up of `warmupTasks`
 * through the same path are outside the timed part. Returns tasks per second.
 */
export async function measureDtfThroughput(load: ThroughputLoad, onProgress: (done: number) => void): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtf-bench-'));
  const logger = pino({ level: 'silent' });
  const coordinator = await Coordinator.start({ dataDir: path.join(dir, 'coordinator'), listen: '127.0.0.1:0', logger });
  const address = `127.0.0.1:${coordinator.port}`;
  // As in `dtf up`, the collector shares the coordinator's process, so it reads the feed in-process.
  const feed = inProcessClient(ResultService, coordinator.impls.results);
  const collector = await Collector.start({ coordinator: address, feed, databasePath: path.join(dir, 'results.duckdb'), logger });
  let sim: BenchChild | undefined;
  let submitter: BenchChild | undefined;
  try {
    sim = (await BenchChild.start('sim-workers.ts', [address, String(load.workers), String(load.slotsPerWorker), String(load.prefetch)])).child;
    submitter = (await BenchChild.start('submitter.ts', [address])).child;
    submitter.send({ type: 'bulk', total: load.warmupTasks, batch: load.batch });
    const warm = await submitter.next('done', trialTimeoutMs) as unknown as { jobIds: string[] };
    await waitAllStored(coordinator, collector, warm.jobIds, load.warmupTasks);
    const t0 = performance.now();
    submitter.send({ type: 'bulk', total: load.tasks, batch: load.batch });
    const { jobIds } = await submitter.next('done', trialTimeoutMs) as unknown as { jobIds: string[] };
    await waitAllStored(coordinator, collector, jobIds, load.tasks, onProgress);
    const elapsedMs = performance.now() - t0;
    const stored = await collector.store.status();
    const all = load.warmupTasks + load.tasks;
    if (stored.attempts < BigInt(all)) throw new Error(`DuckDB holds ${stored.attempts} attempts after ${all} tasks finished`);
    return (load.tasks / elapsedMs) * 1000;
  } finally {
    await submitter?.stop();
    await sim?.stop();
    await collector.stop();
    await coordinator.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
