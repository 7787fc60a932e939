import type { Requirements, Worker } from '../gen/dtf/common/v1/common_pb';
import type { Ranker, Refusal } from './plugin';
import { IndexedHeap } from './indexed-heap';
import { compareKeys, type Head, type OrderContext, type QueueEntry, type ReadyIndex } from './ready-index';
import { addResources, allocate, demandOf, fitsDemand, NO_RESOURCES, utilisationAfter, type Demand, type Resources } from './resources';

/** A worker that may take work now. */
export interface FreeWorker {
  worker: Worker;
  /** Tasks it may still be given (its credits; 1 for a probe after quarantine). */
  slots: number;
  /** Resources not held by running or proposed attempts. */
  free: Resources;
  capacity: Resources;
  /**
   * Whether the worker can ever run each requirement class, by class key: a
   * cache the caller may keep with the worker across rounds (valid while the
   * worker object is the same and it stays online, uncordoned, undrained), so
   * a round does not ask `refusal` again for every free worker.
   */
  feasible?: Map<string, boolean>;
}

/** How feasible workers are ranked within a pool (the worker label `pool`). */
export type RankingMode = 'spread' | 'binpack';

export interface RankingPolicy {
  default: RankingMode;
  /** Per pool name. */
  pools: Record<string, RankingMode>;
}

export const defaultRanking: RankingPolicy = { default: 'spread', pools: {} };

export interface RoundContext {
  nowMs: number;
  /** A task gains one priority level per this long in the queue; 0 disables aging. */
  agingMs: number;
  /**
   * Why the worker can never run tasks of these requirements (built-ins and
   * plug-ins). `cls` is their requirement class, when the caller knows it.
   */
  refusal(req: Requirements | undefined, worker: Worker, cls?: string): Refusal | undefined;
  /** Soft-preference score of the worker for these requirements. */
  preference(req: Requirements | undefined, worker: Worker): number;
  rankers: Ranker[];
  ranking: RankingPolicy;
  /** Tasks of the tenant running now (before this round). */
  tenantRunning(tenant: string): number;
  /** The tenant's weight in fair sharing; default 1. */
  tenantWeight(tenant: string): number;
  maxPlacements: number;
}

/** One decision: run the queued task on the worker, holding these resources. */
export interface RoundPlacement {
  entry: QueueEntry;
  workerId: string;
  holding: Resources;
}

/**
 * One scheduling round: repeatedly take the best ready task that some free
 * worker can run now, and give it to the best-ranked such worker, until no
 * free worker can run any ready task. Chosen tasks leave the index (the
 * caller puts back any the log then rejects). `workers` are updated in place.
 *
 * Feasibility is decided per requirement class, never per task, and each
 * decision looks only at the head of each class: its cost does not grow with
 * the queue. No head-of-line blocking: a class whose tasks fit no free
 * worker is simply passed over.
 */
export function scheduleRound(index: ReadyIndex, workers: FreeWorker[], ctx: RoundContext): RoundPlacement[] {
  index.promote(ctx.nowMs);
  if (index.classes.size === 0 || workers.length === 0) return [];
  const extra = new Map<string, number>();
  const order: OrderContext = {
    nowMs: ctx.nowMs,
    agingMs: ctx.agingMs,
    tenantShare: (t) => (ctx.tenantRunning(t) + (extra.get(t) ?? 0)) / Math.max(1e-9, ctx.tenantWeight(t)),
  };
  interface ClassView { key: string; req: Requirements | undefined; demand: Demand; able: FreeWorker[]; servable: boolean; plainScans: number; plain?: IndexedHeap<PlainEntry> }
  const classes: ClassView[] = [];
  for (const cq of index.classes.values()) {
    const able = workers.filter((fw) => canRun(fw, cq.requirements, cq.key, ctx));
    if (able.length === 0) continue;
    const view: ClassView = { key: cq.key, req: cq.requirements, demand: demandOf(cq.requirements), able, servable: false, plainScans: 0 };
    view.servable = able.some((fw) => fits(fw, view.demand));
    classes.push(view);
  }
  /** Per worker, its entries in the plain classes' worker heaps. */
  const plainEntries = new Map<FreeWorker, PlainEntry[]>();
  const placements: RoundPlacement[] = [];
  while (placements.length < ctx.maxPlacements) {
    let best: { view: ClassView; head: Head } | undefined;
    for (const view of classes) {
      if (!view.servable) continue;
      const cq = index.classes.get(view.key);
      const head = cq && index.head(cq, order);
      if (!head) {
        view.servable = false;
        continue;
      }
      if (!best || compareKeys(head.key, best.head.key) < 0) best = { view, head };
    }
    if (!best) break;
    const { view, head } = best;
    const chosen = bestWorker(head.entry, view, ctx);
    if (!chosen) {
      view.servable = false;
      continue;
    }
    const { fw, holding } = chosen;
    index.takeEntry(head.entry);
    fw.slots--;
    addResources(fw.free, holding, -1);
    for (const e of plainEntries.get(fw) ?? []) {
      if (fw.slots <= 0) e.heap.remove(e);
      else {
        e.score = plainScore(fw, ctx);
        e.heap.update(e);
      }
    }
    extra.set(head.entry.tenant, (extra.get(head.entry.tenant) ?? 0) + 1);
    placements.push({ entry: head.entry, workerId: fw.worker.id, holding });
    // A class this placement left without a worker it fits on stays marked
    // servable until its head is next chosen: bestWorker then finds no worker
    // and marks it. Checking every class of the worker here instead cost a
    // map of classes per free worker, built every round.
  }
  return placements;

  function bestWorker(entry: QueueEntry, view: ClassView, c: RoundContext): { fw: FreeWorker; holding: Resources } | undefined {
    const req = entry.task.spec?.requirements;
    if (c.rankers.length === 0 && isNothing(view.demand) && !(req && req.preferences.length > 0)) {
      // A class's first few plain placements scan; past them, a heap pays off.
      const top = view.plainScans < plainScansMax ? bestPlain(view, c) : plainHeap(view, c).peek()?.fw;
      view.plainScans++;
      return top && { fw: top, holding: allocate(view.demand, top.free)! };
    }
    let best: { fw: FreeWorker; holding: Resources; score: number } | undefined;
    for (const fw of view.able) {
      if (fw.slots <= 0 || !fitsDemand(view.demand, fw.free)) continue;
      const holding = allocate(view.demand, fw.free);
      if (!holding) continue;
      const score = rank(entry, fw, holding, c);
      if (!best || score > best.score || (score === best.score && fw.worker.id < best.fw.worker.id)) best = { fw, holding, score };
    }
    return best && { fw: best.fw, holding: best.holding };
  }

  /**
   * The best of the class's able workers with slots left by {@link plainScore}
   * (ties to the lower id), by one scan: what the heap's top would be, without
   * building a heap of every free worker for a round that places a few tasks.
   */
  function bestPlain(view: ClassView, c: RoundContext): FreeWorker | undefined {
    let best: FreeWorker | undefined;
    let bestScore = 0;
    for (const fw of view.able) {
      if (fw.slots <= 0) continue;
      const score = plainScore(fw, c);
      if (!best || score > bestScore || (score === bestScore && fw.worker.id < best.worker.id)) {
        best = fw;
        bestScore = score;
      }
    }
    return best;
  }

  /**
   * The class's able workers with slots left, best first by {@link plainScore}
   * (ties to the lower id), built once the class has had {@link plainScansMax}
   * plain placements in the round and kept in order as placements change
   * workers: a choice costs O(log W), not a scan of every free worker per task.
   */
  function plainHeap(view: ClassView, c: RoundContext): IndexedHeap<PlainEntry> {
    if (view.plain) return view.plain;
    const heap = new IndexedHeap<PlainEntry>((a, b) => a.score > b.score || (a.score === b.score && a.fw.worker.id < b.fw.worker.id), 'pos');
    for (const fw of view.able) {
      if (fw.slots <= 0) continue;
      const e: PlainEntry = { fw, score: plainScore(fw, c), pos: -1, heap };
      heap.push(e);
      let list = plainEntries.get(fw);
      if (!list) plainEntries.set(fw, (list = []));
      list.push(e);
    }
    view.plain = heap;
    return heap;
  }
}

/**
 * Plain placements of one class in one round that scan the free workers
 * before a heap of them is built. Rounds of a few tasks are the common case
 * under a steady trickle of jobs, and a heap per round (an entry per free
 * worker) was a tenth of what the coordinator allocated there.
 */
export const plainScansMax = 8;

/** A worker in one plain class's heap of workers. */
interface PlainEntry {
  fw: FreeWorker;
  score: number;
  pos: number;
  heap: IndexedHeap<PlainEntry>;
}

/** A demand of nothing but a slot. */
function isNothing(d: Demand): boolean {
  return d.cpu === 0 && d.memory === 0 && d.count === 0 && d.allOf.length === 0;
}

/**
 * {@link rank} for the common case — a task that asks only for a slot, with
 * no preferences and no plug-in rankers — without allocating: the same score
 * (soft 0, utilisation unchanged by taking nothing), so the same choice.
 */
function plainScore(fw: FreeWorker, c: RoundContext): number {
  const mode = c.ranking.pools[fw.worker.labels.pool ?? ''] ?? c.ranking.default;
  const sign = mode === 'binpack' ? 1 : -1;
  return sign * utilisationAfter(fw.capacity, fw.free, NO_RESOURCES) * 1e4 - sign * Math.min(fw.slots, 999) / 1e3;
}

/** Whether the worker can ever run the class (no refusal), from its cache when it has one. */
function canRun(fw: FreeWorker, req: Requirements | undefined, cls: string, ctx: RoundContext): boolean {
  let ok = fw.feasible?.get(cls);
  if (ok === undefined) {
    ok = ctx.refusal(req, fw.worker, cls) === undefined;
    fw.feasible?.set(cls, ok);
  }
  return ok;
}

function fits(fw: FreeWorker, d: Demand): boolean {
  return fw.slots > 0 && fitsDemand(d, fw.free);
}

/**
 * A worker's score for a task: soft preferences and plug-in rankers first
 * (they dominate), then the pool's mode — bin-pack prefers the worker left fullest,
 * spread the one left emptiest — and last its free slots the same way.
 */
export function rank(entry: QueueEntry, fw: FreeWorker, holding: Resources, c: RoundContext): number {
  const req = entry.task.spec?.requirements;
  let soft = req && req.preferences.length > 0 ? c.preference(req, fw.worker) : 0;
  const u = utilisationAfter(fw.capacity, fw.free, holding);
  for (const r of c.rankers) {
    const s = r.score(entry.task, fw.worker, { slots: fw.slots, utilisation: u });
    if (Number.isFinite(s)) soft += s;
  }
  const mode = c.ranking.pools[fw.worker.labels.pool ?? ''] ?? c.ranking.default;
  const sign = mode === 'binpack' ? 1 : -1;
  return soft * 1e7 + sign * u * 1e4 - sign * Math.min(fw.slots, 999) / 1e3;
}
