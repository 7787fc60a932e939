/**
 * What the scheduling simulation measures and checks, apart from the
 * simulator itself: whether a set of demands fits a worker, Jain's fairness
 * index, worker time per tenant, and the seeds a test runs.
 */
import type { DeviceKind, Requirements } from '../../libs/gen/dtf/common/v1/common_pb';
import { demandOf, type Resources } from '../../libs/scheduling/resources';
import type { AttemptRecord } from './scheduling-sim';

/**
 * Whether tasks with these requirements can all run at once within
 * `capacity`: CPU and memory add up, and some choice of any-of device kind
 * per task leaves no kind over-used. Written independently of `allocate`, by
 * trying every choice (a worker runs a few tasks, each with a few kinds).
 */
export function demandsFit(reqs: (Requirements | undefined)[], capacity: Resources): boolean {
  const demands = reqs.map(demandOf);
  let cpu = 0;
  let memory = 0;
  for (const d of demands) {
    cpu += d.cpu;
    memory += d.memory;
  }
  if (cpu > capacity.cpu || memory > capacity.memory) return false;
  const choose = (i: number, used: Map<DeviceKind, number>): boolean => {
    if (i === demands.length) return [...used].every(([k, n]) => n <= (capacity.devices.get(k) ?? 0));
    const d = demands[i];
    const base = new Map(used);
    for (const k of d.allOf) base.set(k, (base.get(k) ?? 0) + 1);
    if (d.count === 0) return choose(i + 1, base);
    return d.anyOf.some((k) => {
      const next = new Map(base);
      next.set(k, (next.get(k) ?? 0) + d.count);
      return choose(i + 1, next);
    });
  };
  return choose(0, new Map());
}

/** Jain's fairness index of `xs`: 1 when all are equal, 1/n when one has everything. */
export function jainIndex(xs: number[]): number {
  const sum = xs.reduce((a, x) => a + x, 0);
  const squares = xs.reduce((a, x) => a + x * x, 0);
  return squares === 0 ? 1 : (sum * sum) / (xs.length * squares);
}

/** Worker time (ms) each key's attempts spent inside [fromMs, toMs). */
export function workerTime(attempts: AttemptRecord[], fromMs: number, toMs: number, keyOf: (a: AttemptRecord) => string): Map<string, number> {
  const out = new Map<string, number>();
  for (const a of attempts) {
    const overlap = Math.min(a.endMs, toMs) - Math.max(a.startMs, fromMs);
    if (overlap > 0) out.set(keyOf(a), (out.get(keyOf(a)) ?? 0) + overlap);
  }
  return out;
}

/** The seeds a test runs: the one in SEED when replaying, else its own list. */
export function seedsFor(defaults: number[]): number[] {
  const s = process.env.SEED;
  return s ? [Number(s)] : defaults;
}
