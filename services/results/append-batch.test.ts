import { DuckDBInstance } from '@duckdb/node-api';
import { appendBatch, chunkRowsMax } from './append-batch';
import { ColumnBatch, type ColumnValue } from './column-batch';
import { createTableSql, type TableDef } from './result-schema';
import { BIGINT, BOOLEAN, DOUBLE, INTEGER, TIMESTAMP, UBIGINT, VARCHAR } from '@duckdb/node-api';

const table: TableDef = {
  name: 'every_type',
  columns: [
    { name: 'n', sql: 'INTEGER', type: INTEGER },
    { name: 's', sql: 'VARCHAR', type: VARCHAR },
    { name: 'same', sql: 'VARCHAR', type: VARCHAR },
    { name: 'i', sql: 'INTEGER', type: INTEGER },
    { name: 'b', sql: 'BIGINT', type: BIGINT },
    { name: 'u', sql: 'UBIGINT', type: UBIGINT },
    { name: 'd', sql: 'DOUBLE', type: DOUBLE },
    { name: 't', sql: 'TIMESTAMP', type: TIMESTAMP },
    { name: 'f', sql: 'BOOLEAN', type: BOOLEAN },
  ],
};

/** Strings that take each path: inline ASCII, heap (long), non-ASCII, empty, NULL. */
const strings = ['', 'short', 'exactly12chr', 'thirteen char', 'a much longer string than twelve bytes', 'héllo', '日本', null];
const row = (n: number): ColumnValue[] => [
  n,
  strings[n % strings.length],
  'constant value for every row',
  n % 7 === 0 ? null : -n,
  n % 5 === 0 ? null : (n % 2 ? -(2 ** 40) - n : 2n ** 62n + BigInt(n)),
  n % 3 === 0 ? 2n ** 64n - 1n : n * 2 ** 33,
  n % 11 === 0 ? null : n / 3,
  n % 13 === 0 ? null : 1_700_000_000_000_000 + n,
  n % 4 === 0 ? null : n % 2 === 0,
];

describe('appendBatch', () => {
  it('stores every supported type, NULLs and string kinds across several data chunks exactly', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(createTableSql(table));
    const batch = new ColumnBatch(table);
    const rows = 2 * chunkRowsMax + 17;
    for (let n = 0; n < rows; n++) batch.add(row(n));
    await appendBatch(connection, batch);
    const reader = await connection.runAndReadAll(
      'SELECT n, s, same, i, b, u, d, epoch_us(t) AS t, f FROM every_type ORDER BY n',
    );
    const got = reader.getRows();
    expect(got.length).toBe(rows);
    const big = (v: unknown) => (v === null ? null : BigInt(v as bigint));
    for (let n = 0; n < rows; n++) {
      const [, s, same, i, b, u, d, t, f] = row(n);
      expect(got[n]).toEqual([n, s, same, i, big(b), big(u), d, big(t), f]);
    }
    // A constant column of one chunk must not leak into the next: the last chunk is short.
    const distinct = await connection.runAndReadAll('SELECT count(DISTINCT s) FROM every_type');
    expect(distinct.getRows()[0][0]).toBe(BigInt(strings.length - 1));
    connection.closeSync();
    instance.closeSync();
  });
});
