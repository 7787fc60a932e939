/**
 * DuckDB returns BIGINT and HUGEINT as `bigint`, which `JSON.stringify` refuses.
 * Query results leave the store through JSON (REST, CLI `--json`), so every
 * bigint becomes a number when that is exact and a decimal string otherwise.
 */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value !== null && typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = jsonSafe(v);
    return out;
  }
  return value;
}

/** Applies {@link jsonSafe} to each row of a query result. */
export function jsonSafeRows(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((row) => jsonSafe(row) as Record<string, unknown>);
}
