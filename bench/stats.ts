/** Median and range of one figure's repetitions. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

/**
 * Summarises repeated measurements. The median, not the mean, because one
 * repetition slowed by a neighbour on a shared machine should not move it.
 */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error('summarize: no samples; a figure needs at least one repetition');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}

/** Element-wise `a[i] / b[i]`: each repetition's subject against the baseline measured beside it. */
export function pairwiseRatio(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) throw new Error(`pairwiseRatio: ${a.length} subject samples against ${b.length} baseline samples`);
  return a.map((x, i) => x / b[i]);
}
