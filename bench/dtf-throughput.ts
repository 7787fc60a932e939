import { createClient } from '@connectrpc/connect';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { ResultService } from '../libs/gen/dtf/result/v1/result_service_pb';
import { SchedulerService } from '../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { createGrpcTransport } from '../libs/rpc/grpc-transport';
import { inProcessClient } from '../libs/rpc/in-process-client';
import { Coordinator } from '../services/coordinator/coordinator';
import { Collector } from '../services/results/collector';
import { BenchChild } from './child';
import { submitNoopJobs, waitAllStored } from './dtf-jobs';

/** The shape of one throughput trial; the BullMQ baseline uses the same. */
export interface ThroughputLoad {
  tasks: number;
  workers: number;
  slotsPerWorker: number;
  /** Tasks per SubmitJob (per addBulk for BullMQ). */
  batch: number;
}

/**
 * One end-to-end trial on a fresh coordinator and DuckDB file: submit
 * `tasks` no-op tasks, let the simulated workers in a child process "run"
 * them, and stop the clock when the last result is in DuckDB. Setup (start,
 * workers connecting) is outside the timed part. Returns tasks per second.
 */
export async function measureDtfThroughput(load: ThroughputLoad, onProgress: (done: number) => void): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtf-bench-'));
  const logger = pino({ level: 'silent' });
  const coordinator = await Coordinator.start({ dataDir: path.join(dir, 'coordinator'), listen: '127.0.0.1:0', logger });
  const address = `127.0.0.1:${coordinator.port}`;
  // As in `dtf up`, the collector shares the coordinator's process, so it reads the feed in-process.
  const feed = inProcessClient(ResultService, coordinator.impls.results);
  const collector = await Collector.start({ coordinator: address, feed, databasePath: path.join(dir, 'results.duckdb'), logger });
  const transport = createGrpcTransport(address);
  let sim: BenchChild | undefined;
  try {
    sim = (await BenchChild.start('sim-workers.ts', [address, String(load.workers), String(load.slotsPerWorker)])).child;
    const scheduler = createClient(SchedulerService, transport);
    const t0 = performance.now();
    const jobIds = await submitNoopJobs(scheduler, load.tasks, load.batch);
    await waitAllStored(coordinator, collector, jobIds, load.tasks, onProgress);
    const elapsedMs = performance.now() - t0;
    const stored = await collector.store.status();
    if (stored.attempts < BigInt(load.tasks)) throw new Error(`DuckDB holds ${stored.attempts} attempts after ${load.tasks} tasks finished`);
    return (load.tasks / elapsedMs) * 1000;
  } finally {
    await sim?.stop();
    transport.close();
    await collector.stop();
    await coordinator.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
