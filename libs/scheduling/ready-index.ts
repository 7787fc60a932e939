import type { Requirements, Task } from '../gen/dtf/common/v1/common_pb';
import { IndexedHeap } from './indexed-heap';
import { MonotoneQueue } from './monotone-queue';
import { requirementClass } from './requirement-class';

/** A queued task with what ordering needs, fixed when it is queued. */
export interface QueueEntry {
  task: Task;
  /** Submission order; inside a job, longest predicted work first. */
  seq: number;
  /** When it (re)entered the queue, for aging. */
  enqueuedMs: number;
  tenant: string;
  priority: number;
  /** Zero: no deadline. */
  deadlineMs: number;
  /** Earliest start (retry backoff); zero: now. */
  notBeforeMs: number;
  cls: string;
  /** Heap positions, kept by the heaps. */
  agePos: number;
  pos: number;
  /** True while in the index (ready or delayed). */
  queued: boolean;
}

/** What a caller gives to queue a task; the index fills in the rest. */
export type NewEntry = Omit<QueueEntry, 'cls' | 'agePos' | 'pos' | 'queued'> & Partial<Pick<QueueEntry, 'cls' | 'agePos' | 'pos' | 'queued'>>;

/** What ordering needs from outside the queue. */
export interface OrderContext {
  nowMs: number;
  /** A task gains one priority level per this long in the queue; 0 disables aging. */
  agingMs: number;
  /** Running tasks of a tenant over its weight: lower goes first. */
  tenantShare(tenant: string): number;
}

/**
 * The order key of a candidate: compared element by element, lower first.
 * `[-effective priority, 0 (aged) or 1, …]`; aged entries go oldest first;
 * the rest by base priority, then deadline (EDF, tasks with one first), then
 * the tenant's share, the job's turn, and submission order.
 */
export type OrderKey = (number | string)[];

class JobQueue {
  /** By submission order, which is mostly the order tasks arrive in: O(1) per task. */
  readonly tasks = new MonotoneQueue<QueueEntry>((a, b) => a.seq < b.seq, 'pos');
  pos = -1;
  constructor(readonly jobId: string, public pass: number, readonly firstSeq: number) {}
}

class TenantQueue {
  readonly jobs = new IndexedHeap<JobQueue>((a, b) => a.pass < b.pass || (a.pass === b.pass && a.firstSeq < b.firstSeq), 'pos');
  readonly byJob = new Map<string, JobQueue>();
  /** The pass of the job picked last: where new jobs start, so they cannot jump ahead. */
  vtime = 0;
  size = 0;
  constructor(readonly tenant: string) {}
}

class Level {
  /** By enqueue time, which is the order tasks arrive in (the clock does not run back): O(1) per task. */
  readonly byAge = new MonotoneQueue<QueueEntry>((a, b) => a.enqueuedMs < b.enqueuedMs || (a.enqueuedMs === b.enqueuedMs && a.seq < b.seq), 'agePos');
  readonly deadlines = new IndexedHeap<QueueEntry>((a, b) => a.deadlineMs < b.deadlineMs || (a.deadlineMs === b.deadlineMs && a.seq < b.seq), 'pos');
  readonly tenants = new Map<string, TenantQueue>();
  constructor(readonly priority: number) {}
  get size(): number {
    return this.byAge.size;
  }
}

/** The queued tasks of one requirement class: any worker able to run one can run all. */
export class ClassQueue {
  readonly levels = new Map<number, Level>();
  size = 0;
  constructor(readonly key: string, readonly requirements: Requirements | undefined) {}
}

/** The best task of a class now, and its order key. */
export interface Head {
  entry: QueueEntry;
  key: OrderKey;
}

/**
 * Pending tasks that are ready to run, indexed by requirement class, then
 * priority level, then tenant and job, so the next task for a free worker is
 * found without looking at the rest of the queue: a decision costs
 * O(classes × (levels + tenants) + log jobs + log h), whatever the queue
 * length, where h counts the tasks that arrived out of order (retries, tasks
 * freed by their dependencies); see {@link MonotoneQueue}.
 *
 * Tasks waiting out a retry backoff sit apart until `promote` sees them due.
 * Tasks waiting on dependencies are not here at all.
 */
export class ReadyIndex {
  readonly classes = new Map<string, ClassQueue>();
  /** Entries by task id, unless the owner looks them up itself (see the constructor). */
  private readonly entries: Map<string, QueueEntry> | undefined;
  private count = 0;
  private readonly delayed = new IndexedHeap<QueueEntry>((a, b) => a.notBeforeMs < b.notBeforeMs || (a.notBeforeMs === b.notBeforeMs && a.seq < b.seq), 'pos');
  /** Ready tasks per base priority, for the highest priority present. */
  private readonly perPriority = new Map<number, number>();
  private maxPriorityCache: number | undefined;

  /** Queued tasks, delayed ones included. */
  /**
   * `lookup`, when given, finds the entry object of a task id: the owner
   * keeps entries in its own records (the state's task records are their
   * queue entries), which saves a map and an object per queued task.
   */
  constructor(private readonly lookup?: (taskId: string) => QueueEntry | undefined) {
    this.entries = lookup ? undefined : new Map();
  }

  get size(): number {
    return this.count;
  }

  get delayedSize(): number {
    return this.delayed.size;
  }

  has(taskId: string): boolean {
    return this.get(taskId) !== undefined;
  }

  get(taskId: string): QueueEntry | undefined {
    const e = this.entries ? this.entries.get(taskId) : this.lookup!(taskId);
    return e?.queued ? e : undefined;
  }

  /** Queues a task; one not due before `nowMs` waits apart. Adding a queued task does nothing. */
  /**
   * Queues a task; one not due before `nowMs` waits apart. The index keeps
   * (and fills in) the object it is given. Adding a queued task does nothing.
   */
  add(entry: NewEntry, nowMs: number): void {
    if (entry.queued) return;
    const e = entry as QueueEntry;
    e.cls = requirementClass(e.task.spec?.requirements);
    e.agePos = -1;
    e.pos = -1;
    e.queued = true;
    this.entries?.set(e.task.id, e);
    this.count++;
    if (e.notBeforeMs > nowMs) this.delayed.push(e);
    else this.insert(e);
  }

  /** Takes a task out of the queue; true when it was queued. */
  remove(taskId: string): boolean {
    const e = this.get(taskId);
    return e ? this.removeEntry(e) : false;
  }

  /**
   * {@link remove} for an entry the caller already holds (one this index was
   * given): no lookup by id, which at a million queued tasks is a cache miss
   * in a map of a million.
   */
  removeEntry(e: QueueEntry): boolean {
    if (!e.queued) return false;
    this.forget(e);
    if (!this.delayed.remove(e)) this.extract(e, false);
    return true;
  }

  private forget(e: QueueEntry): void {
    e.queued = false;
    this.entries?.delete(e.task.id);
    this.count--;
  }

  /**
   * Removes a task chosen to run, and gives its job's turn to the next job
   * of the tenant: that turn-taking is the fair share between jobs.
   */
  take(taskId: string): void {
    const e = this.get(taskId);
    if (e) this.takeEntry(e);
  }

  /** {@link take} for an entry the caller already holds, as {@link removeEntry}. */
  takeEntry(e: QueueEntry): void {
    if (!e.queued) return;
    this.forget(e);
    if (!this.delayed.remove(e)) this.extract(e, true);
  }

  /** Moves tasks whose backoff has passed into the ready queues. */
  promote(nowMs: number): void {
    for (let e = this.delayed.peek(); e && e.notBeforeMs <= nowMs; e = this.delayed.peek()) {
      this.delayed.pop();
      this.insert(e);
    }
  }

  /** When the next delayed task becomes due, if any. */
  nextDueMs(): number | undefined {
    return this.delayed.peek()?.notBeforeMs;
  }

  /** The highest base priority among ready tasks. */
  maxPriority(): number {
    if (this.maxPriorityCache === undefined) {
      let m = -Infinity;
      for (const [p, n] of this.perPriority) if (n > 0 && p > m) m = p;
      this.maxPriorityCache = m;
    }
    return this.maxPriorityCache;
  }

  /** All queued entries, in no particular order. */
  *all(): IterableIterator<QueueEntry> {
    yield* this.delayed.values();
    for (const cq of this.classes.values()) for (const level of cq.levels.values()) yield* level.byAge.values();
  }

  /**
   * Queued entries in the order the scheduler would take them were every
   * worker able, then those waiting out a backoff by due time: O(n log n),
   * for tests and reports.
   */
  inOrder(ctx: OrderContext): QueueEntry[] {
    const keyed: { e: QueueEntry; k: OrderKey }[] = [];
    for (const e of this.all()) {
      const k = this.keyOf(e, ctx);
      if (k) keyed.push({ e, k });
    }
    const later = [...this.delayed.values()].sort((a, b) => a.notBeforeMs - b.notBeforeMs || a.seq - b.seq);
    return [...keyed.sort((a, b) => compareKeys(a.k, b.k)).map((x) => x.e), ...later];
  }

  /** The best ready task of a class, or undefined when it has none. */
  head(cq: ClassQueue, ctx: OrderContext): Head | undefined {
    let best: { level: Level; eff: number; aged: boolean } | undefined;
    const maxP = this.maxPriority();
    for (const level of cq.levels.values()) {
      if (level.size === 0) continue;
      const { eff, aged } = this.effective(level, ctx, maxP);
      if (
        !best || eff > best.eff ||
        (eff === best.eff && aged && !best.aged) ||
        (eff === best.eff && aged === best.aged && (aged ? olderThan(level, best.level) : level.priority > best.level.priority))
      ) best = { level, eff, aged };
    }
    if (!best) return undefined;
    const { level, eff, aged } = best;
    if (aged) {
      const e = level.byAge.peek()!;
      return { entry: e, key: [-eff, 0, e.enqueuedMs, e.seq] };
    }
    const d = level.deadlines.peek();
    if (d) return { entry: d, key: [-eff, 1, -level.priority, 0, d.deadlineMs, 0, '', 0, 0, d.seq] };
    let tq: TenantQueue | undefined;
    let share = 0;
    for (const t of level.tenants.values()) {
      if (t.size === 0) continue;
      const s = ctx.tenantShare(t.tenant);
      if (!tq || s < share || (s === share && t.tenant < tq.tenant)) {
        tq = t;
        share = s;
      }
    }
    const jq = tq!.jobs.peek()!;
    const e = jq.tasks.peek()!;
    return { entry: e, key: [-eff, 1, -level.priority, 1, 0, share, tq!.tenant, jq.pass, jq.firstSeq, e.seq] };
  }

  /**
   * The order key of any ready entry, as `head` would give it were the entry
   * at the front: what a full scan compares (tests, and queue positions).
   */
  keyOf(e: QueueEntry, ctx: OrderContext): OrderKey | undefined {
    const level = this.classes.get(e.cls)?.levels.get(e.priority);
    if (!level || !level.byAge.has(e)) return undefined;
    const { eff, aged } = this.effective(level, ctx, this.maxPriority());
    if (aged) return [-eff, 0, e.enqueuedMs, e.seq];
    if (e.deadlineMs > 0) return [-eff, 1, -level.priority, 0, e.deadlineMs, 0, '', 0, 0, e.seq];
    const tq = level.tenants.get(e.tenant)!;
    const jq = tq.byJob.get(e.task.jobId)!;
    return [-eff, 1, -level.priority, 1, 0, ctx.tenantShare(e.tenant), e.tenant, jq.pass, jq.firstSeq, e.seq];
  }

  private effective(level: Level, ctx: OrderContext, maxP: number): { eff: number; aged: boolean } {
    if (ctx.agingMs <= 0 || level.priority >= maxP) return { eff: level.priority, aged: false };
    const oldest = level.byAge.peek()!;
    const steps = Math.floor(Math.max(0, ctx.nowMs - oldest.enqueuedMs) / ctx.agingMs);
    if (steps < 1) return { eff: level.priority, aged: false };
    return { eff: Math.min(level.priority + steps, maxP), aged: true };
  }

  private insert(e: QueueEntry): void {
    let cq = this.classes.get(e.cls);
    if (!cq) this.classes.set(e.cls, (cq = new ClassQueue(e.cls, e.task.spec?.requirements)));
    let level = cq.levels.get(e.priority);
    if (!level) cq.levels.set(e.priority, (level = new Level(e.priority)));
    cq.size++;
    this.countPriority(e.priority, +1);
    level.byAge.push(e);
    if (e.deadlineMs > 0) {
      level.deadlines.push(e);
      return;
    }
    let tq = level.tenants.get(e.tenant);
    if (!tq) level.tenants.set(e.tenant, (tq = new TenantQueue(e.tenant)));
    let jq = tq.byJob.get(e.task.jobId);
    if (!jq) {
      jq = new JobQueue(e.task.jobId, tq.vtime, e.seq);
      tq.byJob.set(jq.jobId, jq);
      tq.jobs.push(jq);
    }
    jq.tasks.push(e);
    tq.size++;
  }

  private extract(e: QueueEntry, taken: boolean): void {
    const cq = this.classes.get(e.cls)!;
    const level = cq.levels.get(e.priority)!;
    level.byAge.remove(e);
    cq.size--;
    this.countPriority(e.priority, -1);
    if (!level.deadlines.remove(e)) {
      const tq = level.tenants.get(e.tenant)!;
      const jq = tq.byJob.get(e.task.jobId)!;
      jq.tasks.remove(e);
      tq.size--;
      if (taken) {
        tq.vtime = Math.max(tq.vtime, jq.pass);
        jq.pass++;
      }
      if (jq.tasks.size === 0) {
        tq.jobs.remove(jq);
        tq.byJob.delete(jq.jobId);
      } else if (taken) {
        tq.jobs.update(jq);
      }
      if (tq.size === 0) level.tenants.delete(e.tenant);
    }
    if (level.size === 0) cq.levels.delete(e.priority);
    if (cq.size === 0) this.classes.delete(e.cls);
  }

  private countPriority(p: number, delta: number): void {
    const n = (this.perPriority.get(p) ?? 0) + delta;
    if (n === 0) this.perPriority.delete(p);
    else this.perPriority.set(p, n);
    if (delta > 0) {
      if (this.maxPriorityCache !== undefined && p > this.maxPriorityCache) this.maxPriorityCache = p;
    } else if (n === 0 && p === this.maxPriorityCache) {
      this.maxPriorityCache = undefined;
    }
  }
}

function olderThan(a: Level, b: Level): boolean {
  const x = a.byAge.peek()!;
  const y = b.byAge.peek()!;
  return x.enqueuedMs < y.enqueuedMs || (x.enqueuedMs === y.enqueuedMs && x.seq < y.seq);
}

/** Compares two order keys: negative when `a` goes first. */
export function compareKeys(a: OrderKey, b: OrderKey): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}
