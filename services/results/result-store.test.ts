import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { TestCaseStatus } from '../../libs/gen/dtf/common/v1/common_pb';
import { create } from '@bufbuild/protobuf';
import { EventSchema, type Event } from '../../libs/gen/dtf/result/v1/result_service_pb';
import { attemptFinished, attemptStarted, jobFinished, jobSubmitted, retriedThenFailed, taskFinished } from './event-fixtures';
import { prepareBatch, type PreparedBatch } from './prepared-batch';
import { ResultStore, walCheckpointMiB } from './result-store';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dtf-results-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Writes `events` in batches of `size` as the collector does: each batch is
 * prepared while the one before it commits. Returns the order in which
 * preparations and finished writes happened.
 */
async function writePipelined(store: ResultStore, events: readonly Event[], size: number): Promise<string[]> {
  const order: string[] = [];
  let offset = 0;
  const take = (after: bigint) => {
    order.push(`prepare ${offset / size}`);
    const batch = prepareBatch(events.slice(offset, offset + size), after);
    offset += size;
    return batch;
  };
  let next: PreparedBatch | undefined = take(await store.appliedIndex());
  while (next) {
    const batch: PreparedBatch = next;
    next = undefined;
    await store.write(batch, () => {
      if (offset < events.length) next = take(batch.last);
    });
    order.push('written');
  }
  return order;
}

/** One job of three tasks run to completion: 11 events, indexes 1..11. */
function fullJob(jobId: string): Event[] {
  const events: Event[] = [jobSubmitted(1n, jobId, 3)];
  let index = 2n;
  for (let i = 0; i < 3; i++) {
    const taskId = `${jobId}-t${i}`;
    events.push(attemptStarted(index++, jobId, taskId));
    events.push(attemptFinished(index++, jobId, taskId, {
      testCases: [{ suite: 's', classname: 'c', name: `case${i}`, durationSeconds: 0.5 }],
      metrics: [{ name: 'ops_per_sec', value: 100 * (i + 1), unit: 'ops/s' }],
    }));
    events.push(taskFinished(index++, jobId, taskId));
  }
  events.push(jobFinished(index, jobId, 3));
  return events;
}

describe('ResultStore', () => {
  it('stores a job, its tasks, attempts, test cases and metrics with readable states', async () => {
    const store = await ResultStore.open(join(dir, 'results.duckdb'));
    await store.applyEvents(fullJob('j1'));
    expect(await store.appliedIndex()).toBe(11n);
    const status = await store.status();
    expect(status).toMatchObject({ appliedIndex: 11n, jobs: 1n, tasks: 3n, attempts: 3n, testCases: 3n, metrics: 3n });
    expect(status.databaseBytes).toBeGreaterThan(0n);
    expect(await store.query('SELECT state, total, succeeded, finished_at IS NOT NULL AS done FROM jobs'))
      .toEqual([{ state: 'succeeded', total: 3, succeeded: 3, done: true }]);
    expect(await store.query("SELECT DISTINCT state, attempts FROM tasks")).toEqual([{ state: 'succeeded', attempts: 1 }]);
    expect(await store.query("SELECT outcome, duration_ms, memory_bytes_max FROM attempts LIMIT 1"))
      .toEqual([{ outcome: 'succeeded', duration_ms: 250, memory_bytes_max: 2 ** 40 }]);
    await store.close();
  });

  it('moves a job to running when an attempt starts, in a later batch', async () => {
    const store = await ResultStore.open(join(dir, 'results.duckdb'));
    await store.applyEvents([jobSubmitted(1n, 'j1', 2)]);
    await store.applyEvents([attemptStarted(2n, 'j1', 'j1-t0')]);
    expect(await store.query('SELECT state FROM jobs')).toEqual([{ state: 'running' }]);
    expect(await store.query("SELECT state, attempts FROM tasks WHERE task_id = 'j1-t0'")).toEqual([{ state: 'running', attempts: 1 }]);
    await store.close();
  });

  it('never duplicates rows when an overlapping batch is re-delivered after a restart', async () => {
    const path = join(dir, 'results.duckdb');
    const events = fullJob('j1');
    let store = await ResultStore.open(path);
    await store.applyEvents(events.slice(0, 6));
    await store.close();

    store = await ResultStore.open(path);
    expect(await store.appliedIndex()).toBe(6n);
    await store.applyEvents(events.slice(3)); // indexes 4..11, of which 4..6 are already stored
    await store.applyEvents(events); // everything again: a no-op
    expect(await store.status()).toMatchObject({ appliedIndex: 11n, jobs: 1n, tasks: 3n, attempts: 3n, testCases: 3n, metrics: 3n });
    await store.close();
  });

  it('stores the same rows whether a job\'s life comes in one batch or split across many', async () => {
    // Two jobs, one with a retry and a failure, so that merging in memory has
    // states, attempt counts, finish times and job counts to get right.
    const events = [
      ...fullJob('j1'),
      ...[
        jobSubmitted(12n, 'j2', 2),
        ...retriedThenFailed(13n, 'j2', 'j2-t0'),
        attemptStarted(18n, 'j2', 'j2-t1', 1),
      ],
    ];
    const tables = ['jobs', 'tasks', 'attempts', 'test_cases', 'metrics'];
    const dump = async (store: ResultStore) => {
      const out: Record<string, unknown> = {};
      for (const t of tables) out[t] = await store.query(`SELECT * FROM ${t} ORDER BY ALL`);
      return out;
    };
    const whole = await ResultStore.open(join(dir, 'whole.duckdb'));
    await whole.applyEvents(events);
    const expected = await dump(whole);
    await whole.close();
    for (const size of [1, 2, 3, 5]) {
      const split = await ResultStore.open(join(dir, `split-${size}.duckdb`));
      for (let i = 0; i < events.length; i += size) await split.applyEvents(events.slice(i, i + size));
      expect(await dump(split)).toEqual(expected);
      await split.close();
      // The collector's way: each batch prepared while the one before commits.
      const pipelined = await ResultStore.open(join(dir, `pipelined-${size}.duckdb`));
      const order = await writePipelined(pipelined, events, size);
      expect(order.slice(0, 3)).toEqual(['prepare 0', 'prepare 1', 'written']);
      expect(await dump(pipelined)).toEqual(expected);
      await pipelined.close();
    }
    expect((expected.jobs as { state: string }[]).map((j) => j.state)).toEqual(['succeeded', 'running']);
  });

  it('rejects a batch prepared against another applied index, writing nothing', async () => {
    const store = await ResultStore.open(join(dir, 'results.duckdb'));
    const events = fullJob('j1');
    const stale = prepareBatch(events.slice(3), 0n);
    await store.applyEvents(events.slice(0, 3));
    await expect(store.write(stale)).rejects.toThrow('batch was prepared after event 0, but the store holds events up to 3');
    expect(await store.status()).toMatchObject({ appliedIndex: 3n, jobs: 1n, tasks: 3n, attempts: 1n });
    // Prepared against the right index, the same events apply.
    await store.write(prepareBatch(events.slice(3), 3n));
    expect(await store.status()).toMatchObject({ appliedIndex: 11n, attempts: 3n });
    await store.close();
  });

  it('fails a write whose whileCommitting throws, after the batch is stored, and goes on from the stored index', async () => {
    const store = await ResultStore.open(join(dir, 'results.duckdb'));
    const events = fullJob('j1');
    await expect(store.write(prepareBatch(events.slice(0, 5), 0n), () => {
      throw new Error('preparing the next batch failed');
    })).rejects.toThrow('preparing the next batch failed');
    expect(await store.appliedIndex()).toBe(5n);
    await store.write(prepareBatch(events.slice(5), 5n));
    expect(await store.status()).toMatchObject({ appliedIndex: 11n, jobs: 1n, tasks: 3n, attempts: 3n });
    await store.close();
  });

  it('checkpoints inside a commit only past 64 MiB of write-ahead log, and on request between writes', async () => {
    const store = await ResultStore.open(join(dir, 'results.duckdb'));
    expect(await store.query("SELECT current_setting('checkpoint_threshold') AS t")).toEqual([{ t: `${walCheckpointMiB}.0 MiB` }]);
    await store.applyEvents(fullJob('j1'));
    expect(await store.walBytes()).toBeGreaterThan(0);
    await store.checkpoint();
    expect(await store.walBytes()).toBe(0);
    expect(await store.status()).toMatchObject({ appliedIndex: 11n, jobs: 1n, tasks: 3n, attempts: 3n });
    await store.close();
  });

  it('drops duplicates inside one batch', async () => {
    const store = await ResultStore.open(join(dir, 'results.duckdb'));
    const events = fullJob('j1');
    await store.applyEvents([...events.slice(0, 3), ...events.slice(0, 3), ...events.slice(3)]);
    expect(await store.status()).toMatchObject({ jobs: 1n, tasks: 3n, attempts: 3n });
    await store.close();
  });

  it('rolls back the whole batch and keeps the applied index when an insert fails mid-batch', async () => {
    const path = join(dir, 'results.duckdb');
    const store = await ResultStore.open(path);
    await store.applyEvents([jobSubmitted(1n, 'j0', 1)]);
    // Attempt 0 violates the attempts CHECK; the job and tasks before it were already appended.
    const bad = [jobSubmitted(2n, 'j1', 5), attemptFinished(3n, 'j1', 'j1-t0'), attemptFinished(4n, 'j1', 'j1-t1', { attempt: 0 })];
    await expect(store.applyEvents(bad)).rejects.toThrow(/CHECK constraint/);
    expect(await store.status()).toMatchObject({ appliedIndex: 1n, jobs: 1n, tasks: 1n, attempts: 0n });
    // The store stays usable: a good batch after the failure applies normally.
    await store.applyEvents([jobSubmitted(2n, 'j1', 5)]);
    expect(await store.status()).toMatchObject({ appliedIndex: 2n, jobs: 2n, tasks: 6n });
    await store.close();
  });

  it('lists test cases and metrics per job, with the task name and tags on each metric', async () => {
    const store = await ResultStore.open(join(dir, 'results.duckdb'));
    const other = fullJob('j2').map((e) => ({ ...e, index: e.index + 100n }));
    await store.applyEvents([...fullJob('j1'), ...other]);
    const cases = await store.listTestCases('j1');
    expect(cases.map((c) => [c.taskId, c.attempt, c.testCase?.name, c.testCase?.status])).toEqual([
      ['j1-t0', 1, 'case0', TestCaseStatus.PASSED],
      ['j1-t1', 1, 'case1', TestCaseStatus.PASSED],
      ['j1-t2', 1, 'case2', TestCaseStatus.PASSED],
    ]);
    const metrics = await store.listMetrics('j2');
    expect(metrics.map((m) => [m.taskId, m.taskName, m.metric?.value, m.tags])).toEqual([
      ['j2-t0', 't0', 100, { shard: '0' }],
      ['j2-t1', 't1', 200, { shard: '1' }],
      ['j2-t2', 't2', 300, { shard: '2' }],
    ]);
    expect(await store.listTestCases('nope')).toEqual([]);
    await store.close();
  });

  it('records retries and failures', async () => {
    const store = await ResultStore.open(join(dir, 'results.duckdb'));
    await store.applyEvents([
      jobSubmitted(1n, 'j1', 1),
      ...retriedThenFailed(2n, 'j1', 'j1-t0'),
      jobFinished(7n, 'j1', 1, 1),
    ]);
    expect(await store.query('SELECT attempt, outcome FROM attempts ORDER BY attempt'))
      .toEqual([{ attempt: 1, outcome: 'worker_lost' }, { attempt: 2, outcome: 'failed' }]);
    expect(await store.query('SELECT t.state AS task, t.attempts, j.state AS job, j.failed FROM tasks t JOIN jobs j USING (job_id)'))
      .toEqual([{ task: 'failed', attempts: 2, job: 'failed', failed: 1 }]);
    await store.close();
  });

  it('stores an attempt that carries only its key, with NULL times and usage', async () => {
    const store = await ResultStore.open(join(dir, 'results.duckdb'));
    const bare = create(EventSchema, { index: 1n, kind: { case: 'attemptFinished', value: { jobId: 'j', result: { key: { taskId: 't', attempt: 1 } } } } });
    await store.applyEvents([bare, create(EventSchema, { index: 2n })]);
    expect(await store.query('SELECT outcome, started_at, duration_ms, cpu_percent_max, memory_bytes_max FROM attempts'))
      .toEqual([{ outcome: 'unspecified', started_at: null, duration_ms: null, cpu_percent_max: null, memory_bytes_max: null }]);
    expect(await store.appliedIndex()).toBe(2n);
    await store.close();
  });

  it('returns JSON-safe rows: BIGINT as number when exact, else string', async () => {
    const store = await ResultStore.open(':memory:');
    const rows = await store.query(
      "SELECT 42::BIGINT AS small, 9007199254740993::BIGINT AS big, 170141183460469231731687303715884105727::HUGEINT AS huge, [1::BIGINT, 2] AS list, {'a': 3::BIGINT} AS obj",
    );
    expect(rows).toEqual([{ small: 42, big: '9007199254740993', huge: '170141183460469231731687303715884105727', list: [1, 2], obj: { a: 3 } }]);
    expect(() => JSON.stringify(rows)).not.toThrow();
    await store.close();
  });

  it('refuses a query result past the row bound', async () => {
    const store = await ResultStore.open(':memory:');
    await expect(store.query('SELECT * FROM range(200000)')).rejects.toThrow(/add a LIMIT/);
    await store.close();
  });
});

describe('DuckDB Appender', () => {
  it('writes inside the explicit transaction, so ROLLBACK removes its rows', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run('CREATE TABLE t (a INTEGER)');
    await connection.run('BEGIN TRANSACTION');
    const appender = await connection.createAppender('t');
    for (let i = 0; i < 10; i++) {
      appender.appendInteger(i);
      appender.endRow();
    }
    appender.flushSync();
    appender.closeSync();
    const inside = await connection.runAndReadAll('SELECT count(*) FROM t');
    expect(inside.getRows()[0][0]).toBe(10n);
    await connection.run('ROLLBACK');
    const after = await connection.runAndReadAll('SELECT count(*) FROM t');
    expect(after.getRows()[0][0]).toBe(0n);
    connection.closeSync();
    instance.closeSync();
  });
});
