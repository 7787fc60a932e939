import { DuckDBDataChunk, type DuckDBConnection } from '@duckdb/node-api';
import type { ColumnBatch } from './column-batch';

/** DuckDB's vector size: the most rows one data chunk can hold. */
export const chunkRowsMax = 2048;

/**
 * Appends a batch through DuckDB's Appender, one data chunk of up to
 * {@link chunkRowsMax} rows at a time.
 *
 * The Appender writes into the connection's current transaction (checked by
 * a test that rolls it back), so rows appended between BEGIN and COMMIT
 * vanish with a ROLLBACK. Constraint errors surface at the latest on flush;
 * the appender is closed either way so the connection stays usable.
 */
export async function appendBatch(connection: DuckDBConnection, batch: ColumnBatch): Promise<void> {
  if (batch.rowCount === 0) return;
  const types = batch.table.columns.map((c) => c.type);
  const appender = await connection.createAppender(batch.table.name);
  try {
    for (let offset = 0; offset < batch.rowCount; offset += chunkRowsMax) {
      const rows = Math.min(chunkRowsMax, batch.rowCount - offset);
      const chunk = DuckDBDataChunk.create(types, rows);
      chunk.setColumns(batch.columns.map((column) => column.slice(offset, offset + rows)));
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } catch (err) {
    closeQuietly(() => {
      appender.clear();
      appender.closeSync();
    });
    throw err;
  }
  appender.closeSync();
}

/** After a failed append the close may fail too; the first error is the one worth reporting. */
function closeQuietly(close: () => void): void {
  try {
    close();
  } catch {
    // Deliberately ignored: the caller is already handling the append's own error.
  }
}
