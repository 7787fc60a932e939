/**
 * Matrix expansion: axes of values, their cartesian product, minus `exclude`
 * entries, plus `include` entries. Pure functions over plain values.
 *
 * An `include` entry fixes the axes it names and ranges over the axes it does
 * not name, so a suite-level `include: [{model: gpt2}]` still runs every
 * shard of a sharded task. An `exclude` entry removes every combination that
 * agrees with all the values it names. Includes come after excludes, so an
 * include is never excluded.
 */

/** One combination: axis name → value, all as strings (they end up in tags and text). */
export type MatrixValues = Record<string, string>;

/** A matrix as written, values already turned into strings. */
export interface Matrix {
  axes: Record<string, string[]>;
  exclude: MatrixValues[];
  include: MatrixValues[];
}

export const emptyMatrix: Matrix = { axes: {}, exclude: [], include: [] };

/** Reads a schema-validated `matrix:` mapping. */
export function readMatrix(raw: unknown): Matrix {
  if (!raw || typeof raw !== 'object') return emptyMatrix;
  const { exclude, include, ...axes } = raw as Record<string, unknown>;
  return {
    axes: Object.fromEntries(Object.entries(axes).map(([k, v]) => [k, (v as unknown[]).map(String)])),
    exclude: ((exclude ?? []) as Record<string, unknown>[]).map(stringValues),
    include: ((include ?? []) as Record<string, unknown>[]).map(stringValues),
  };
}

/** A task's matrix on top of the suite's: the task's axes replace same-named suite axes. */
export function combineMatrices(suite: Matrix, task: Matrix): Matrix {
  return {
    axes: { ...suite.axes, ...task.axes },
    exclude: [...suite.exclude, ...task.exclude],
    include: [...suite.include, ...task.include],
  };
}

/** How many combinations expansion can produce at most, computed without producing them. */
export function matrixSizeBound(matrix: Matrix): number {
  const names = Object.keys(matrix.axes);
  const product = (axes: string[]) => axes.reduce((n, a) => n * matrix.axes[a].length, 1);
  let size = names.length === 0 && matrix.include.length > 0 ? 0 : product(names);
  for (const entry of matrix.include) size += product(names.filter((a) => !(a in entry)));
  return size;
}

/** Every combination, in product order (first axis slowest), then includes; duplicates dropped. */
export function expandMatrix(matrix: Matrix): MatrixValues[] {
  const names = Object.keys(matrix.axes);
  const seen = new Set<string>();
  const out: MatrixValues[] = [];
  const add = (combo: MatrixValues) => {
    const key = JSON.stringify(Object.entries(combo).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    if (!seen.has(key)) out.push(combo);
    seen.add(key);
  };
  // With only includes, the matrix is exactly the included entries (no empty base combination).
  if (names.length > 0 || matrix.include.length === 0) {
    for (const combo of product(matrix.axes, names)) {
      if (!matrix.exclude.some((ex) => matches(combo, ex))) add(combo);
    }
  }
  for (const entry of matrix.include) {
    for (const free of product(matrix.axes, names.filter((a) => !(a in entry)))) add({ ...free, ...entry });
  }
  return out;
}

function product(axes: Record<string, string[]>, names: string[]): MatrixValues[] {
  let combos: MatrixValues[] = [{}];
  for (const name of names) {
    combos = combos.flatMap((c) => axes[name].map((v) => ({ ...c, [name]: v })));
  }
  return combos;
}

function matches(combo: MatrixValues, entry: MatrixValues): boolean {
  return Object.entries(entry).every(([k, v]) => combo[k] === v);
}

function stringValues(entry: Record<string, unknown>): MatrixValues {
  return Object.fromEntries(Object.entries(entry).map(([k, v]) => [k, String(v)]));
}
