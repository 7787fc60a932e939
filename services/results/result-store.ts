import { create } from '@bufbuild/protobuf';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { TestCaseStatusSchema, type TestCaseStatus } from '../../libs/gen/dtf/common/v1/common_pb';
import {
  MetricRowSchema, TestCaseRowSchema, type Event, type MetricRow, type TestCaseRow,
} from '../../libs/gen/dtf/result/v1/result_service_pb';
import { appendBatch } from './append-batch';
import { enumNames } from './enum-names';
import type { EventRows } from './event-rows';
import { jsonSafeRows } from './json-safe';
import { prepareBatch, type PreparedBatch } from './prepared-batch';
import { allTables, collectorStateSql, createTableSql } from './result-schema';
import { stagedSql } from './update-sql';

/** A caller hands over at most this many events per call; the feed batches far smaller. */
export const applyEventsMax = 100_000;
/** An ad-hoc query may return at most this many rows; past it the caller must add a LIMIT. */
export const queryRowsMax = 100_000;
/** Per-job listings stop at this many rows (the RPCs have no paging yet). */
export const listRowsMax = 100_000;

/**
 * DuckDB checkpoints (moves its write-ahead log into the database file,
 * compressing it) inside the commit that takes the log past this size. At
 * its default, 16 MiB, a checkpoint of ~250 ms landed inside every ~100,000
 * results of a burst, with the collector waiting on it. The collector
 * checkpoints in quiet moments instead (see {@link quietCheckpointBytes}),
 * so a burst of up to ~400,000 results is stored without stopping for one;
 * only ingest sustained past this size pays it in line.
 */
export const walCheckpointMiB = 64;
/** A collector whose feed says the coordinator is idle checkpoints once the write-ahead log holds this much. */
export const quietCheckpointBytes = 2 ** 20;

const testStatuses = enumNames<TestCaseStatus>(TestCaseStatusSchema);

/** What the store holds, as `GetCollectorStatusResponse` reports it. */
export interface ResultStoreStatus {
  appliedIndex: bigint;
  jobs: bigint;
  tasks: bigint;
  attempts: bigint;
  testCases: bigint;
  metrics: bigint;
  /** Size of the database file plus its write-ahead log. */
  databaseBytes: bigint;
}

/**
 * The results database: applies committed feed events to DuckDB exactly once
 * and answers queries over them.
 *
 * Each `applyEvents` call is one transaction that also stores the last
 * applied feed index, so a crash at any point leaves either the whole batch
 * and its index or neither; re-delivered events (index at or below the stored
 * one) are skipped. Writes go through one connection, serialised; reads use a
 * second connection, which sees only committed batches.
 */
export class ResultStore {
  private writes: Promise<unknown> = Promise.resolve();
  private closed = false;
  /**
   * The applied index as of the last committed batch. Only this store's
   * serialised writer changes it, so a batch need not query it first.
   */
  private committedIndex: bigint | undefined;

  private constructor(
    private readonly path: string,
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly reader: DuckDBConnection,
  ) {}

  /** Opens (creating if needed) the database file at `path`; `:memory:` works for throwaway stores. */
  static async open(path: string): Promise<ResultStore> {
    if (path !== ':memory:') await mkdir(dirname(path), { recursive: true });
    const instance = await DuckDBInstance.create(path, { checkpoint_threshold: `${walCheckpointMiB}MiB` });
    const writer = await instance.connect();
    for (const table of allTables) await writer.run(createTableSql(table));
    for (const sql of collectorStateSql) await writer.run(sql);
    const reader = await instance.connect();
    return new ResultStore(path, instance, writer, reader);
  }

  /** The index of the last event stored; 0 for a new database. */
  async appliedIndex(): Promise<bigint> {
    const reader = await this.reader.runAndReadAll('SELECT applied_index FROM collector_state WHERE id = 1');
    return reader.getRows()[0][0] as bigint;
  }

  /**
   * Stores a batch of feed events in one transaction. Events at or below the
   * applied index are skipped, so overlapping re-delivery is harmless. On any
   * error the transaction rolls back and the applied index stays where it was.
   */
  applyEvents(events: readonly Event[]): Promise<void> {
    if (events.length > applyEventsMax) {
      return Promise.reject(new Error(`applyEvents got ${events.length} events; pass at most ${applyEventsMax} per call`));
    }
    return this.exclusive(async () => this.writeNow(prepareBatch(events, await this.committed())));
  }

  /**
   * Stores a batch prepared with {@link prepareBatch} in one transaction,
   * like {@link applyEvents}. The batch must have been prepared against the
   * store's applied index as it stands when the write starts (the previous
   * batch's `last`, for a writer that prepares ahead); otherwise it is
   * rejected and nothing is written.
   *
   * `whileCommitting` is called once the rows are appended and DuckDB is
   * running the batch's remaining statements and COMMIT on its own thread:
   * the moment to prepare the next batch. It should not throw: if it does,
   * the write waits for DuckDB, then fails with that error whether or not
   * the batch was stored, and the store asks the database for its applied
   * index before the next write.
   */
  write(batch: PreparedBatch, whileCommitting?: () => void): Promise<void> {
    return this.exclusive(() => this.writeNow(batch, whileCommitting));
  }

  /** Bytes in the write-ahead log: committed batches not yet checkpointed into the database file. */
  async walBytes(): Promise<number> {
    if (this.path === ':memory:') return 0;
    return stat(`${this.path}.wal`).then((s) => s.size, () => 0);
  }

  /**
   * Checkpoints between writes: moves the write-ahead log into the database
   * file. Reads on the other connection may go on meanwhile (DuckDB 1.5
   * checkpoints with a read transaction open). If it fails, nothing is lost:
   * the log stays, and DuckDB replays it when the file is next opened.
   */
  checkpoint(): Promise<void> {
    return this.exclusive(() => this.writer.run('CHECKPOINT').then(() => undefined));
  }

  /** Row counts, applied index and file size. */
  async status(): Promise<ResultStoreStatus> {
    const reader = await this.reader.runAndReadAll(`SELECT
      (SELECT applied_index FROM collector_state WHERE id = 1),
      (SELECT count(*) FROM jobs), (SELECT count(*) FROM tasks), (SELECT count(*) FROM attempts),
      (SELECT count(*) FROM test_cases), (SELECT count(*) FROM metrics)`);
    const [appliedIndex, jobs, tasks, attempts, testCases, metrics] = reader.getRows()[0] as bigint[];
    return { appliedIndex, jobs, tasks, attempts, testCases, metrics, databaseBytes: await this.databaseBytes() };
  }

  /** Every test case recorded for a job, ordered by task, attempt and name. */
  async listTestCases(jobId: string): Promise<TestCaseRow[]> {
    const reader = await this.reader.runAndReadAll(
      `SELECT task_id, attempt, suite, classname, name, status, duration_seconds, message
       FROM test_cases WHERE job_id = $1 ORDER BY task_id, attempt, suite, classname, name LIMIT ${listRowsMax}`,
      [jobId],
    );
    return reader.getRowObjectsJS().map((r) => create(TestCaseRowSchema, {
      taskId: r.task_id as string,
      attempt: r.attempt as number,
      testCase: {
        suite: r.suite as string,
        classname: r.classname as string,
        name: r.name as string,
        status: testStatuses.value(r.status as string),
        durationSeconds: r.duration_seconds as number,
        message: r.message as string,
      },
    }));
  }

  /** Every metric recorded for a job, with its task's name and tags (the matrix values). */
  async listMetrics(jobId: string): Promise<MetricRow[]> {
    const reader = await this.reader.runAndReadAll(
      `SELECT task_id, attempt, task_name, name, value, unit, tags
       FROM metrics WHERE job_id = $1 ORDER BY task_name, task_id, attempt, name LIMIT ${listRowsMax}`,
      [jobId],
    );
    return reader.getRowObjectsJS().map((r) => create(MetricRowSchema, {
      taskId: r.task_id as string,
      attempt: r.attempt as number,
      taskName: r.task_name as string,
      metric: { name: r.name as string, value: r.value as number, unit: r.unit as string },
      tags: JSON.parse((r.tags as string | null) ?? '{}') as Record<string, string>,
    }));
  }

  /**
   * Runs one SQL statement on the read connection and returns its rows with
   * bigints made JSON-safe (number when exact, else string). Rejects results
   * longer than {@link queryRowsMax} rows rather than truncating silently.
   */
  async query(sql: string): Promise<Record<string, unknown>[]> {
    const reader = await this.reader.streamAndReadUntil(sql, queryRowsMax + 1);
    if (reader.currentRowCount > queryRowsMax) {
      throw new Error(`query returned more than ${queryRowsMax} rows; add a LIMIT or aggregate`);
    }
    return jsonSafeRows(reader.getRowObjectsJS());
  }

  /** Waits for pending writes, then closes the database; the store is unusable afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writes.catch(() => undefined);
    this.reader.closeSync();
    this.writer.closeSync();
    this.instance.closeSync();
  }

  /** The applied index as of the last committed batch, asked of the database when unknown. */
  private async committed(): Promise<bigint> {
    return (this.committedIndex ??= await this.appliedIndex());
  }

  private async writeNow(batch: PreparedBatch, whileCommitting?: () => void): Promise<void> {
    const applied = await this.committed();
    if (batch.after !== applied) {
      throw new Error(`batch was prepared after event ${batch.after}, but the store holds events up to ${applied}`);
    }
    if (batch.last === applied) {
      whileCommitting?.();
      return;
    }
    await this.writer.run('BEGIN TRANSACTION');
    try {
      const statements = await this.appendRows(batch.rows);
      statements.push(`UPDATE collector_state SET applied_index = ${batch.last.toString()} WHERE id = 1`, 'COMMIT');
      // One query for the rest: DuckDB runs it through to COMMIT without
      // waiting for this thread between statements.
      const done = this.writer.run(statements.join(';\n'));
      try {
        whileCommitting?.();
      } finally {
        await done;
      }
      this.committedIndex = batch.last;
    } catch (err) {
      // Whether a failed COMMIT left the batch in is unknown here: ask the database next time.
      this.committedIndex = undefined;
      // The batch's own error is the one to report; a failing ROLLBACK adds nothing to it.
      await this.writer.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /**
   * Appends the batch's rows and returns the set-based statements still to
   * run. Appends come first, so that those statements see this batch's own
   * jobs and tasks.
   */
  private async appendRows(rows: EventRows): Promise<string[]> {
    for (const batch of [rows.jobs, rows.tasks, rows.attempts, rows.testCases]) await appendBatch(this.writer, batch);
    const staged = [rows.metrics, rows.taskUpdateRows(), rows.jobUpdateRows()].filter((b) => b.rowCount > 0);
    for (const batch of staged) await appendBatch(this.writer, batch);
    return stagedSql(staged.map((b) => b.table.name));
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('result store is closed'));
    const run = this.writes.then(work, work);
    this.writes = run.catch(() => undefined);
    return run;
  }

  private async databaseBytes(): Promise<bigint> {
    if (this.path === ':memory:') return 0n;
    let total = 0n;
    for (const file of [this.path, `${this.path}.wal`]) {
      total += await stat(file).then((s) => BigInt(s.size), () => 0n);
    }
    return total;
  }
}
