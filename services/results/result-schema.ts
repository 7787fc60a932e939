import {
  BIGINT, BOOLEAN, DOUBLE, DuckDBType, INTEGER, TIMESTAMP, UBIGINT, VARCHAR,
} from '@duckdb/node-api';

/**
 * The tables of the results database, declared once so that the DDL and the
 * Appender's column types cannot drift apart.
 *
 * No PRIMARY KEY constraints: exactly-once ingestion comes from the applied
 * index stored in the same transaction, and an ART index per table would slow
 * the Appender and turn updates into delete+insert. JSON columns hold maps
 * and specs that analytics read with `->>`.
 */
export interface ColumnDef {
  readonly name: string;
  /** SQL type, possibly with a constraint (`INTEGER CHECK (attempt >= 1)`). */
  readonly sql: string;
  /** The type the Appender writes; JSON columns are written as VARCHAR. */
  readonly type: DuckDBType;
}

/** A table: its name and its columns, in Appender order. */
export interface TableDef {
  readonly name: string;
  readonly columns: readonly ColumnDef[];
  /** TEMP tables stage rows for set-based UPDATE / INSERT ... SELECT within one transaction. */
  readonly temp?: boolean;
}

const varchar = (name: string): ColumnDef => ({ name, sql: 'VARCHAR', type: VARCHAR });
const json = (name: string): ColumnDef => ({ name, sql: 'JSON', type: VARCHAR });
const int = (name: string, check = ''): ColumnDef => ({ name, sql: `INTEGER${check}`, type: INTEGER });
const bigint = (name: string): ColumnDef => ({ name, sql: 'BIGINT', type: BIGINT });
const ubigint = (name: string): ColumnDef => ({ name, sql: 'UBIGINT', type: UBIGINT });
const double = (name: string): ColumnDef => ({ name, sql: 'DOUBLE', type: DOUBLE });
const time = (name: string): ColumnDef => ({ name, sql: 'TIMESTAMP', type: TIMESTAMP });
const bool = (name: string): ColumnDef => ({ name, sql: 'BOOLEAN', type: BOOLEAN });

/** Attempts count from 1; the CHECK rejects a malformed result instead of storing attempt 0. */
const attemptColumn = int('attempt', ' NOT NULL CHECK (attempt >= 1)');

export const jobsTable: TableDef = {
  name: 'jobs',
  columns: [
    varchar('job_id'), varchar('name'), varchar('idempotency_key'), varchar('state'),
    time('submitted_at'), time('finished_at'), int('total'), int('succeeded'), int('failed'),
    int('cancelled'), int('errored'), json('labels'), ubigint('event_index'),
  ],
};

export const tasksTable: TableDef = {
  name: 'tasks',
  columns: [
    varchar('task_id'), varchar('job_id'), varchar('name'), varchar('state'), int('priority'),
    json('requirements'), json('tags'), time('created_at'), time('finished_at'), int('attempts'),
    varchar('shell'), json('argv'), varchar('working_dir'), bigint('timeout_ms'), int('retries'),
  ],
};

export const attemptsTable: TableDef = {
  name: 'attempts',
  columns: [
    varchar('task_id'), varchar('job_id'), attemptColumn, varchar('worker_id'), varchar('outcome'),
    int('exit_code'), varchar('signal'), time('started_at'), time('finished_at'), bigint('duration_ms'),
    double('cpu_percent_max'), ubigint('memory_bytes_max'), varchar('error'),
    varchar('stdout_tail'), varchar('stderr_tail'),
  ],
};

export const testCasesTable: TableDef = {
  name: 'test_cases',
  columns: [
    varchar('task_id'), varchar('job_id'), attemptColumn, varchar('suite'), varchar('classname'),
    varchar('name'), varchar('status'), double('duration_seconds'), varchar('message'),
  ],
};

export const metricsTable: TableDef = {
  name: 'metrics',
  columns: [
    varchar('task_id'), varchar('job_id'), attemptColumn, varchar('task_name'), varchar('name'),
    double('value'), varchar('unit'), json('tags'),
  ],
};

/** Metrics arrive without their task's name and tags; these are joined from `tasks` on insert. */
export const metricsStage: TableDef = {
  name: 'stage_metrics',
  temp: true,
  columns: [varchar('task_id'), varchar('job_id'), int('attempt'), varchar('name'), double('value'), varchar('unit')],
};

/** One row per task changed in a batch, already merged in event order. */
export const taskUpdatesStage: TableDef = {
  name: 'stage_task_updates',
  temp: true,
  columns: [varchar('task_id'), varchar('state'), int('attempts'), time('finished_at')],
};

/** One row per job changed in a batch; `started` moves a pending job to running. */
export const jobUpdatesStage: TableDef = {
  name: 'stage_job_updates',
  temp: true,
  columns: [
    varchar('job_id'), varchar('state'), bool('started'), time('finished_at'), int('total'),
    int('succeeded'), int('failed'), int('cancelled'), int('errored'),
  ],
};

/** Every table the store creates, in creation order. */
export const allTables: readonly TableDef[] = [
  jobsTable, tasksTable, attemptsTable, testCasesTable, metricsTable,
  metricsStage, taskUpdatesStage, jobUpdatesStage,
];

/** `CREATE TABLE IF NOT EXISTS` for one table definition. */
export function createTableSql(table: TableDef): string {
  const cols = table.columns.map((c) => `${c.name} ${c.sql}`).join(', ');
  return `CREATE ${table.temp ? 'TEMP ' : ''}TABLE IF NOT EXISTS ${table.name} (${cols})`;
}

/** The single-row table holding the last applied feed index; written in every batch's transaction. */
export const collectorStateSql = [
  'CREATE TABLE IF NOT EXISTS collector_state (id INTEGER PRIMARY KEY, applied_index UBIGINT NOT NULL)',
  'INSERT INTO collector_state VALUES (1, 0) ON CONFLICT DO NOTHING',
];
