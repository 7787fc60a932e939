/**
 * Task durations and the makespans of the comparison strategies, computed
 * exactly (no overheads): what static sharding and history-blind pulling
 * achieve at best with the same durations.
 */

/** A seeded PRNG (mulberry32), so every repetition's suite can be reproduced. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `n` heavy-tailed durations (Pareto, shape 1.5, capped at 50× the minimum),
 * scaled so that their sum spread over `workers` is `targetMs`.
 */
export function heavyTailedDurations(n: number, workers: number, targetMs: number, seed: number): number[] {
  const next = rng(seed);
  const raw = Array.from({ length: n }, () => Math.min(50, 1 / Math.pow(1 - next(), 1 / 1.5)));
  const scale = (targetMs * workers) / raw.reduce((a, b) => a + b, 0);
  return raw.map((d) => Math.max(1, Math.round(d * scale)));
}

/** max(sum / workers, longest): no schedule can finish sooner. */
export function lowerBound(durations: readonly number[], workers: number): number {
  return Math.max(durations.reduce((a, b) => a + b, 0) / workers, Math.max(...durations));
}

/** Static round-robin shards by count, as CI systems split suites: the slowest shard. */
export function roundRobinMakespan(durations: readonly number[], workers: number): number {
  const shards = new Array<number>(workers).fill(0);
  durations.forEach((d, i) => (shards[i % workers] += d));
  return Math.max(...shards);
}

/** Next free worker takes the next task in file order, knowing nothing of durations. */
export function pullMakespan(durations: readonly number[], workers: number): number {
  const free = new Array<number>(workers).fill(0);
  for (const d of durations) {
    let w = 0;
    for (let i = 1; i < workers; i++) if (free[i] < free[w]) w = i;
    free[w] += d;
  }
  return Math.max(...free);
}
