import type { TableDef } from './result-schema';

/**
 * One value of a row as the chunk writer takes it: a string for VARCHAR and
 * JSON, a number for INTEGER and DOUBLE, a number or bigint for BIGINT and
 * UBIGINT, microseconds since the epoch (a number) for TIMESTAMP, a boolean
 * for BOOLEAN, null for NULL. Plain values, not DuckDB value objects, so that
 * building rows allocates nothing per value and the rows can be posted to
 * another thread as they are.
 */
export type ColumnValue = string | number | bigint | boolean | null;

/**
 * Rows for one table, held column by column: the Appender takes whole
 * columns per data chunk, which costs far fewer native calls than a value at
 * a time.
 */
export class ColumnBatch {
  readonly columns: ColumnValue[][];
  private rows = 0;

  constructor(readonly table: TableDef) {
    this.columns = table.columns.map(() => []);
  }

  /** Number of rows added so far. */
  get rowCount(): number {
    return this.rows;
  }

  /** Adds one row and returns its position; `values` must follow the table's column order. */
  add(values: readonly ColumnValue[]): number {
    if (values.length !== this.columns.length) {
      throw new Error(`${this.table.name}: row has ${values.length} values, table has ${this.columns.length} columns`);
    }
    for (let i = 0; i < values.length; i++) this.columns[i].push(values[i]);
    return this.rows++;
  }
}
