import type { DuckDBValue } from '@duckdb/node-api';
import type { TableDef } from './result-schema';

/**
 * Rows for one table, held column by column: the Appender takes whole
 * columns per data chunk, which costs far fewer native calls than a value at
 * a time.
 */
export class ColumnBatch {
  readonly columns: DuckDBValue[][];
  private rows = 0;

  constructor(readonly table: TableDef) {
    this.columns = table.columns.map(() => []);
  }

  /** Number of rows added so far. */
  get rowCount(): number {
    return this.rows;
  }

  /** Adds one row; `values` must follow the table's column order. */
  add(values: readonly DuckDBValue[]): void {
    if (values.length !== this.columns.length) {
      throw new Error(`${this.table.name}: row has ${values.length} values, table has ${this.columns.length} columns`);
    }
    for (let i = 0; i < values.length; i++) this.columns[i].push(values[i]);
    this.rows++;
  }
}
