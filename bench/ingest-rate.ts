import { create } from '@bufbuild/protobuf';
import { DuckDBInstance } from '@duckdb/node-api';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { AttemptOutcome, AttemptResultSchema, JobSchema, TaskSchema, WorkerSchema } from '../libs/gen/dtf/common/v1/common_pb';
import { ResultService } from '../libs/gen/dtf/result/v1/result_service_pb';
import { CommandSchema, type Command } from '../libs/gen/dtf/state/v1/command_pb';
import { inProcessClient } from '../libs/rpc/in-process-client';
import { Coordinator } from '../services/coordinator/coordinator';
import { Collector } from '../services/results/collector';
import { BenchChild } from './child';

/** Tasks per submitted job and per assign/finish command while preparing the log. */
export const ingestBatch = 1000;

const cmd = (kind: Command['kind']) => create(CommandSchema, { timeMs: BigInt(Date.now()), kind });

/**
 * How the collector reads the feed: over gRPC from a coordinator in another
 * process (`dtf results --coordinator`, `ingest-coordinator.ts`), or
 * in-process, as `dtf up` does.
 */
export type FeedPath = 'grpc' | 'in-process';

/**
 * Starts a coordinator in `dir` whose log holds `results` finished no-op
 * attempts (submitted, assigned and finished in jobs of {@link ingestBatch}).
 */
export async function preparedCoordinator(dir: string, results: number): Promise<Coordinator> {
  const logger = pino({ level: 'silent' });
  const c = await Coordinator.start({ dataDir: path.join(dir, 'coordinator'), listen: '127.0.0.1:0', logger });
  try {
    await c.log.propose(cmd({ case: 'workerJoined', value: { $typeName: 'dtf.state.v1.WorkerJoined', worker: create(WorkerSchema, { id: 'w', slots: 1 }) } }));
    for (let done = 0, j = 0; done < results; j++) {
      const n = Math.min(ingestBatch, results - done);
      const jobId = `job-${j}`;
      const tasks = Array.from({ length: n }, (_, i) => create(TaskSchema, { id: `${jobId}.${i + 1}`, spec: { argv: ['true'] } }));
      await c.log.propose(cmd({ case: 'submitJob', value: { $typeName: 'dtf.state.v1.SubmitJob', job: create(JobSchema, { id: jobId, name: jobId }), tasks, placements: [] } }));
      const keys = tasks.map((t) => ({ $typeName: 'dtf.common.v1.AttemptKey' as const, taskId: t.id, attempt: 1 }));
      await c.log.propose(cmd({ case: 'assignAttempts', value: { $typeName: 'dtf.state.v1.AssignAttempts', placements: keys.map((key) => ({ $typeName: 'dtf.state.v1.Placement' as const, key, workerId: 'w' })) } }));
      const now = BigInt(Date.now());
      await c.log.propose(cmd({ case: 'finishAttempts', value: { $typeName: 'dtf.state.v1.FinishAttempts', results: keys.map((key) => create(AttemptResultSchema, { key, outcome: AttemptOutcome.SUCCEEDED, workerId: 'w', startedAtMs: now, finishedAtMs: now })) } }));
      done += n;
    }
    return c;
  } catch (e) {
    await c.stop();
    throw e;
  }
}

/**
 * Prepares a coordinator (see {@link preparedCoordinator}), then starts a
 * collector on an empty DuckDB file and times it from its first read of the
 * feed until the database holds every event. Returns results per second.
 */
export async function feedIngestRate(results: number, via: FeedPath, onProgress: (stored: number) => void): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtf-bench-ingest-'));
  const logger = pino({ level: 'silent' });
  let c: Coordinator | undefined;
  let child: BenchChild | undefined;
  let collector: Collector | undefined;
  try {
    let port: number;
    let last: bigint;
    if (via === 'in-process') {
      c = await preparedCoordinator(dir, results);
      port = c.port;
      last = c.state.events.last;
    } else {
      const started = await BenchChild.start('ingest-coordinator.ts', [dir, String(results)]);
      child = started.child;
      port = started.ready.port as number;
      last = BigInt(started.ready.last as string);
    }
    collector = await Collector.start({
      coordinator: `127.0.0.1:${port}`,
      databasePath: path.join(dir, 'results.duckdb'),
      feed: c ? inProcessClient(ResultService, c.impls.results) : undefined,
      logger,
    });
    // From the collector's first read of the feed: creating the DuckDB file
    // and its tables (~45 ms) happens once per collector, not per result.
    const t0 = performance.now();
    const ticker = setInterval(() => onProgress(Number(collector!.seenIndex)), 500);
    await collector.waitFor(last, 600_000);
    clearInterval(ticker);
    return (results / (performance.now() - t0)) * 1000;
  } finally {
    await collector?.stop();
    await c?.stop();
    await child?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Rows per second the DuckDB Appender takes into an attempts-shaped table in one transaction. */
export async function rawAppenderRate(rows: number): Promise<number> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  await conn.run('CREATE TABLE attempts (task_id VARCHAR, job_id VARCHAR, attempt INTEGER, worker_id VARCHAR, outcome VARCHAR, exit_code INTEGER, started_at TIMESTAMP, finished_at TIMESTAMP, duration_ms BIGINT)');
  const t0 = performance.now();
  await conn.run('BEGIN');
  const appender = await conn.createAppender('attempts');
  const now = Date.now();
  for (let i = 0; i < rows; i++) {
    appender.appendVarchar(`job-${i >> 10}.${i}`);
    appender.appendVarchar(`job-${i >> 10}`);
    appender.appendInteger(1);
    appender.appendVarchar('w');
    appender.appendVarchar('succeeded');
    appender.appendInteger(0);
    appender.appendNull();
    appender.appendNull();
    appender.appendBigInt(BigInt(now & 0xffff));
    appender.endRow();
  }
  appender.flushSync();
  appender.closeSync();
  await conn.run('COMMIT');
  const rate = (rows / (performance.now() - t0)) * 1000;
  conn.closeSync();
  return rate;
}
