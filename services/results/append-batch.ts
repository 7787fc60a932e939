import { DuckDBDataChunk, DuckDBTypeId, type DuckDBConnection } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import type { ColumnBatch, ColumnValue } from './column-batch';

/** DuckDB's vector size: the most rows one data chunk can hold. */
export const chunkRowsMax = 2048;

/** Bytes of one VARCHAR slot (DuckDB's `string_t`): a 4-byte length, then 12 bytes. */
const stringSlotBytes = 16;
/** Strings up to this many bytes live inside their slot; longer ones need DuckDB's string heap. */
const inlineStringBytesMax = 12;

/**
 * Appends a batch through DuckDB's Appender, one data chunk of up to
 * {@link chunkRowsMax} rows at a time.
 *
 * The chunks are filled through the raw vectors rather than node-api's
 * per-value `setItem`: numbers go straight into the vector's memory, short
 * ASCII strings (ids, states, `{}`) are written into their 16-byte slots
 * without a native call, and a column that holds one value throughout the
 * chunk becomes a DuckDB constant vector (one native call for all rows).
 * Only longer strings pay a native call each. That was most of the
 * collector's CPU when every value went through node-api's vectors.
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
      for (let c = 0; c < types.length; c++) {
        const vector = duckdb.data_chunk_get_vector(chunk.chunk, c);
        fillVector(vector, types[c].typeId, batch.columns[c], offset, rows);
      }
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

/**
 * Scratch memory for one column of one chunk (the widest slot is a
 * VARCHAR's 16 bytes). The bindings hand out copies of a vector's memory,
 * not views, so a column is built here and copied in with one call.
 */
const scratch = new ArrayBuffer(chunkRowsMax * stringSlotBytes);
const scratchBytes = new Uint8Array(scratch);
const scratchView = new DataView(scratch);
const scratchInt32 = new Int32Array(scratch);
const scratchFloat64 = new Float64Array(scratch);
const scratchInt64 = new BigInt64Array(scratch);
const validityScratch = new ArrayBuffer(chunkRowsMax / 8);
const validityBytes = new Uint8Array(validityScratch);

/** Writes `rows` values of `values` from `offset` into a fresh vector of type `typeId`. */
function fillVector(vector: duckdb.Vector, typeId: DuckDBTypeId, values: readonly ColumnValue[], offset: number, rows: number): void {
  let nulls = 0;
  for (let i = 0; i < rows; i++) if (values[offset + i] === null) nulls++;
  if (nulls < rows) {
    switch (typeId) {
      case DuckDBTypeId.VARCHAR:
        fillVarchar(vector, values as readonly (string | null)[], offset, rows);
        break;
      case DuckDBTypeId.INTEGER:
        for (let i = 0; i < rows; i++) scratchInt32[i] = (values[offset + i] as number | null) ?? 0;
        duckdb.copy_data_to_vector(vector, 0, scratch, 0, rows * 4);
        break;
      case DuckDBTypeId.DOUBLE:
        for (let i = 0; i < rows; i++) scratchFloat64[i] = (values[offset + i] as number | null) ?? 0;
        duckdb.copy_data_to_vector(vector, 0, scratch, 0, rows * 8);
        break;
      case DuckDBTypeId.BOOLEAN:
        for (let i = 0; i < rows; i++) scratchBytes[i] = values[offset + i] ? 1 : 0;
        duckdb.copy_data_to_vector(vector, 0, scratch, 0, rows);
        break;
      case DuckDBTypeId.BIGINT:
      case DuckDBTypeId.UBIGINT:
      case DuckDBTypeId.TIMESTAMP:
        fillInt64(values, offset, rows);
        duckdb.copy_data_to_vector(vector, 0, scratch, 0, rows * 8);
        break;
      default:
        throw new Error(`appendBatch: column type ${DuckDBTypeId[typeId]} is not supported; add it to fillVector`);
    }
  }
  if (nulls > 0) markNulls(vector, values, offset, rows);
}

/** 64-bit integers as two 32-bit halves: numbers (the usual case) need no BigInt. */
function fillInt64(values: readonly ColumnValue[], offset: number, rows: number): void {
  for (let i = 0; i < rows; i++) {
    const v = values[offset + i];
    if (typeof v === 'bigint') {
      scratchInt64[i] = BigInt.asIntN(64, v);
      continue;
    }
    const n = (v as number | null) ?? 0;
    const high = Math.floor(n / 0x100000000);
    scratchInt32[2 * i] = (n - high * 0x100000000) | 0;
    scratchInt32[2 * i + 1] = high;
  }
}

function fillVarchar(vector: duckdb.Vector, values: readonly (string | null)[], offset: number, rows: number): void {
  const first = values[offset];
  let same = first !== null;
  for (let i = 1; same && i < rows; i++) same = values[offset + i] === first;
  if (same) {
    // One value for the whole chunk: a constant vector, which the Appender expands.
    duckdb.vector_reference_value(vector, duckdb.create_varchar(first as string));
    return;
  }
  let long = 0;
  for (let i = 0; i < rows; i++) {
    const s = values[offset + i];
    if (s !== null && !writeInline(i * stringSlotBytes, s)) {
      // A placeholder (an empty string) until the heap string is assigned below.
      writeInline(i * stringSlotBytes, '');
      long++;
    }
  }
  duckdb.copy_data_to_vector(vector, 0, scratch, 0, rows * stringSlotBytes);
  for (let i = 0; long > 0 && i < rows; i++) {
    const s = values[offset + i];
    if (s !== null && !fitsInline(s)) {
      duckdb.vector_assign_string_element(vector, i, s);
      long--;
    }
  }
}

function fitsInline(s: string): boolean {
  if (s.length > inlineStringBytesMax) return false;
  for (let k = 0; k < s.length; k++) if (s.charCodeAt(k) > 0x7f) return false;
  return true;
}

/**
 * Writes a short ASCII string into its `string_t` slot in the scratch
 * buffer (length, then the bytes, zero-padded: DuckDB compares inlined
 * strings bytewise). Returns false, writing nothing, for a string that must
 * go to DuckDB's string heap.
 */
function writeInline(at: number, s: string): boolean {
  if (!fitsInline(s)) return false;
  const n = s.length;
  scratchView.setUint32(at, n, true);
  let k = 0;
  for (; k < n; k++) scratchBytes[at + 4 + k] = s.charCodeAt(k);
  for (; k < inlineStringBytesMax; k++) scratchBytes[at + 4 + k] = 0;
  return true;
}

function markNulls(vector: duckdb.Vector, values: readonly ColumnValue[], offset: number, rows: number): void {
  const bytes = Math.ceil(rows / 64) * 8;
  validityBytes.fill(0xff, 0, bytes);
  for (let i = 0; i < rows; i++) {
    if (values[offset + i] === null) validityBytes[i >> 3] &= ~(1 << (i & 7));
  }
  duckdb.vector_ensure_validity_writable(vector);
  duckdb.copy_data_to_vector_validity(vector, 0, validityScratch, 0, bytes);
}

/** After a failed append the close may fail too; the first error is the one worth reporting. */
function closeQuietly(close: () => void): void {
  try {
    close();
  } catch {
    // Deliberately ignored: the caller is already handling the append's own error.
  }
}
