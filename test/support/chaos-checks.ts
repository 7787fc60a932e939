import { createClient } from '@connectrpc/connect';
import { DuckDBInstance } from '@duckdb/node-api';
import { TaskState } from '../../libs/gen/dtf/common/v1/common_pb';
import { CollectorService } from '../../libs/gen/dtf/result/v1/result_service_pb';
import { createGrpcTransport } from '../../libs/rpc/grpc-transport';
import { isFinal } from '../../libs/state/task-transitions';
import { eventually } from './dtf-process';
import type { RaftCluster, Submitter } from './raft-cluster';

/** Fails with the message and what is needed to reproduce the run. */
export function fail(c: RaftCluster, msg: string): never {
  throw new Error(`${msg}\nreproduce: ${c.reproduce()}`);
}

/**
 * The end-of-run checks of every chaos scenario, against the recorded
 * history: no acknowledged submission lost, every task final, replicas'
 * state hashes agree, at most one leader per term, and DuckDB holds every
 * acknowledged job with no attempt recorded twice.
 */
export async function checkRun(c: RaftCluster, sub: Submitter, timeoutMs = 60_000): Promise<void> {
  const leader = await c.leader();
  const s = c.scheduler(leader);
  for (const [key, jobId] of sub.acked) {
    const job = await s.getJob({ jobId }, { timeoutMs: 5000 }).catch((e: Error) => fail(c, `acknowledged submission ${key} (job ${jobId}) is lost: ${e.message}`));
    if (job.job?.idempotencyKey !== key) fail(c, `job ${jobId} carries key ${job.job?.idempotencyKey}, acknowledged for ${key}`);
  }
  await eventually('every task final', async () => {
    for (const jobId of sub.acked.values()) {
      const { tasks } = await c.scheduler(leader).listTasks({ jobId, pageSize: 1000 }, { timeoutMs: 5000 });
      if (!tasks.every((t) => isFinal(t.state))) return false;
    }
    return true;
  }, timeoutMs, 250).catch((e: Error) => fail(c, e.message));
  for (const jobId of sub.acked.values()) {
    const { tasks } = await c.scheduler(leader).listTasks({ jobId, pageSize: 1000 });
    const bad = tasks.filter((t) => t.state !== TaskState.SUCCEEDED);
    if (bad.length) fail(c, `job ${jobId}: tasks ${bad.map((t) => `${t.id}=${TaskState[t.state]}`).join(', ')} did not succeed`);
  }
  const settled = await c.settled().catch((e: Error) => fail(c, e.message));
  if (new Set(settled.map((st) => st.stateHash)).size !== 1) fail(c, 'replica state hashes differ');
  const terms = c.leadersByTerm();
  if (terms.size === 0) fail(c, 'no member logged becoming leader: the one-leader-per-term check would check nothing');
  for (const [term, leaders] of terms) {
    if (leaders.size > 1) fail(c, `term ${term} had leaders ${[...leaders].join(', ')}`);
  }
  await checkDuckDb(c, new Set(sub.acked.values()), timeoutMs);
}

async function checkDuckDb(c: RaftCluster, acked: Set<string>, timeoutMs: number): Promise<void> {
  const collector = c.collector!;
  const port = Number((await collector.waitFor(/listening on [\d.]+:(\d+)/))[1]);
  const t = createGrpcTransport(`127.0.0.1:${port}`);
  try {
    const client = createClient(CollectorService, t);
    await eventually('the collector caught up', async () => {
      const st = await client.getCollectorStatus({}, { timeoutMs: 2000 });
      return st.connected && st.lag === 0n && Number(st.jobs) >= acked.size;
    }, timeoutMs, 250).catch((e: Error) => fail(c, e.message));
  } finally {
    t.close();
  }
  await collector.stop();
  const db = await DuckDBInstance.create(c.dbPath);
  const conn = await db.connect();
  try {
    const dupes = (await conn.runAndReadAll('SELECT task_id, attempt, count(*) AS n FROM attempts GROUP BY ALL HAVING count(*) > 1')).getRowObjects();
    if (dupes.length) fail(c, `results recorded twice in DuckDB: ${JSON.stringify(dupes.slice(0, 5), (_, v) => (typeof v === 'bigint' ? String(v) : v))}`);
    const jobs = new Set((await conn.runAndReadAll('SELECT job_id FROM jobs')).getRowObjects().map((r) => String(r.job_id)));
    const missing = [...acked].filter((j) => !jobs.has(j));
    if (missing.length) fail(c, `acknowledged jobs missing from DuckDB: ${missing.slice(0, 5).join(', ')}`);
  } finally {
    conn.closeSync();
  }
}
