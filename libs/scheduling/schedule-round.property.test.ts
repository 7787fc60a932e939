/**
 * Property tests of one scheduling round: `scheduleRound`, which looks only
 * at the head of each requirement class, must decide exactly as a naive full
 * scan that compares every ready task at every step. The scan is the
 * reference: it is obviously right (best key among all placeable tasks,
 * best-ranked worker), and too slow to run in the coordinator.
 *
 * Seeded: `FC_SEED=n` replays a run (default 424242); fast-check prints the
 * seed and path of any counterexample.
 */
import { create } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { DeviceKind, SelectorOperator, TaskSchema, type Requirements } from '../gen/dtf/common/v1/common_pb';
import { firstRefusal } from './feasibility';
import { preferenceScore } from './preferences';
import { compareKeys, ReadyIndex, type OrderContext, type OrderKey, type QueueEntry } from './ready-index';
import { addResources, allocate, capacityOf, demandOf, type Resources } from './resources';
import { rank, scheduleRound, type FreeWorker, type RankingPolicy, type RoundContext, type RoundPlacement } from './schedule-round';
import { GiB, naiveFeasible, req, worker, type WorkerInit } from './test-workers';

const seed = Number(process.env.FC_SEED ?? 424242);
const numRuns = 200;
const nowMs = 1_000_000;

const { CPU, CUDA, ROCM, MPS } = DeviceKind;

/**
 * A small set of requirements, so classes repeat and several tasks compete
 * in each: plain, CPU and memory heavy, one or two accelerators of a kind,
 * any-of, device memory, labels, and a soft preference (same class as its
 * plain twin, different ranking).
 */
const requirementSet: (Requirements | undefined)[] = [
  undefined,
  req({ cpuCores: 2 }),
  req({ cpuCores: 8, memoryBytes: 16n * GiB }),
  req({ anyOf: [CUDA], deviceCount: 1 }),
  req({ anyOf: [CUDA], deviceCount: 2, deviceMemoryMinBytes: 16n * GiB, cpuCores: 2 }),
  req({ anyOf: [ROCM] }),
  req({ anyOf: [CUDA, ROCM], cpuCores: 4 }),
  req({ anyOf: [MPS], memoryBytes: 8n * GiB }),
  req({ labels: { os: 'linux' }, cpuCores: 1 }),
  req({
    cpuCores: 2,
    preferences: [{ $typeName: 'dtf.common.v1.Preference', weight: 5, kind: { case: 'label', value: { $typeName: 'dtf.common.v1.LabelSelector', key: 'zone', operator: SelectorOperator.EQUALS, values: ['a'] } } }],
  }),
];

type Flavor = 'cpu' | 'cuda' | 'rocm' | 'mps';

interface FleetMember {
  flavor: Flavor;
  devices: number;
  deviceMemGiB: bigint;
  cpuCores: number;
  memoryGiB: bigint;
  os: 'linux' | 'mac';
  zone: 'a' | 'b';
  pool: '' | 'batch' | 'gpu';
  unavailable: 'online' | 'cordoned' | 'draining';
  slots: number;
  /** Part of the worker already held by running tasks, 0..1. */
  busy: number;
}

const memberArb: fc.Arbitrary<FleetMember> = fc.record({
  flavor: fc.constantFrom<Flavor>('cpu', 'cpu', 'cuda', 'cuda', 'rocm', 'mps'),
  devices: fc.integer({ min: 1, max: 4 }),
  deviceMemGiB: fc.constantFrom(8n, 16n, 80n),
  cpuCores: fc.constantFrom(1, 4, 8, 16),
  memoryGiB: fc.constantFrom(4n, 32n, 64n),
  os: fc.constantFrom('linux', 'mac'),
  zone: fc.constantFrom('a', 'b'),
  pool: fc.constantFrom('', 'batch', 'gpu'),
  unavailable: fc.constantFrom('online', 'online', 'online', 'online', 'online', 'cordoned', 'draining'),
  slots: fc.integer({ min: 0, max: 4 }),
  busy: fc.constantFrom(0, 0, 0.25, 0.5),
});

function buildFleet(members: FleetMember[]): FreeWorker[] {
  return members.map((m, i) => {
    const kind = { cpu: CPU, cuda: CUDA, rocm: ROCM, mps: MPS }[m.flavor];
    const init: WorkerInit = {
      id: `w${String(i).padStart(2, '0')}`,
      cpuCores: m.cpuCores,
      memoryBytes: m.memoryGiB * GiB,
      devices: m.flavor === 'cpu' ? [[CPU, 0n]] : [[CPU, 0n], ...Array.from({ length: m.devices }, (): [DeviceKind, bigint] => [kind, m.deviceMemGiB * GiB])],
      labels: { os: m.os, zone: m.zone, ...(m.pool ? { pool: m.pool } : {}) },
      cordoned: m.unavailable === 'cordoned',
      draining: m.unavailable === 'draining',
    };
    const w = worker(init);
    const capacity = capacityOf(w);
    const free: Resources = {
      cpu: capacity.cpu - Math.floor(capacity.cpu * m.busy),
      memory: capacity.memory - Math.floor(capacity.memory * m.busy),
      devices: new Map([...capacity.devices].map(([k, n]) => [k, n - Math.floor(n * m.busy)])),
    };
    return { worker: w, slots: m.slots, free, capacity };
  });
}

function copyFleet(fleet: FreeWorker[]): FreeWorker[] {
  return fleet.map((fw) => ({ ...fw, free: { ...fw.free, devices: new Map(fw.free.devices) } }));
}

interface QueuedInit {
  reqIndex: number;
  priority: number;
  tenant: string;
  job: number;
  /** Zero: none. */
  deadlineMs: number;
  /** How long before now it was queued. */
  waitedMs: number;
  /** Retry backoff: zero, due already, or still to come. */
  notBeforeMs: number;
}

const queuedArb: fc.Arbitrary<QueuedInit> = fc.record({
  reqIndex: fc.integer({ min: 0, max: requirementSet.length - 1 }),
  priority: fc.constantFrom(-1, 0, 0, 0, 1, 2),
  tenant: fc.constantFrom('ta', 'tb', 'tc'),
  job: fc.integer({ min: 0, max: 2 }),
  deadlineMs: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(nowMs + 5_000, nowMs + 20_000, nowMs + 60_000) }),
  waitedMs: fc.constantFrom(0, 1_000, 15_000, 45_000, 100_000),
  notBeforeMs: fc.constantFrom(0, 0, 0, 0, nowMs - 1, nowMs + 5_000),
});

interface Setting {
  agingMs: number;
  ranking: RankingPolicy;
  running: Record<string, number>;
  weights: Record<string, number>;
  maxPlacements: number;
}

const settingArb: fc.Arbitrary<Setting> = fc.record({
  agingMs: fc.constantFrom(0, 10_000, 30_000),
  ranking: fc.constantFrom<RankingPolicy>(
    { default: 'spread', pools: {} },
    { default: 'binpack', pools: {} },
    { default: 'spread', pools: { batch: 'binpack' } },
  ),
  running: fc.record({ ta: fc.nat(4), tb: fc.nat(4), tc: fc.nat(4) }),
  weights: fc.record({ ta: fc.constantFrom(1, 2), tb: fc.constantFrom(1, 3), tc: fc.constant(1) }),
  maxPlacements: fc.constantFrom(1000, 1000, 3),
});

/**
 * Narrow queues (two classes, two priorities, one tenant at a time mostly)
 * make the same tenant win several times in a row, which is where the turns
 * of its jobs show; wide ones mix every class and level.
 */
const caseArb = fc
  .record({
    fleet: fc.array(memberArb, { minLength: 1, maxLength: 8, size: 'max' }),
    queue: fc.array(queuedArb, { maxLength: 40, size: 'max' }),
    setting: settingArb,
    narrow: fc.boolean(),
  })
  .map(({ narrow, queue, ...rest }) => ({
    ...rest,
    queue: narrow ? queue.map((q) => ({ ...q, reqIndex: q.reqIndex % 2, priority: q.priority > 0 ? 1 : 0, tenant: q.job === 2 ? 'tb' : 'ta' })) : queue,
  }));

/** An index holding the queue, built the same way each time it is called. */
function buildIndex(queue: QueuedInit[]): ReadyIndex {
  const index = new ReadyIndex();
  queue.forEach((q, i) => {
    const id = `t${String(i).padStart(3, '0')}`;
    const task = create(TaskSchema, {
      id,
      jobId: `${q.tenant}-j${q.job}`,
      spec: { name: id, priority: q.priority, requirements: requirementSet[q.reqIndex], deadlineMs: BigInt(q.deadlineMs) },
    });
    index.add({
      task, seq: i, enqueuedMs: nowMs - q.waitedMs, tenant: q.tenant, priority: q.priority, deadlineMs: q.deadlineMs, notBeforeMs: q.notBeforeMs,
    }, nowMs - q.waitedMs);
  });
  return index;
}

function roundContext(s: Setting): RoundContext {
  return {
    nowMs,
    agingMs: s.agingMs,
    refusal: (r, w) => firstRefusal(r, w),
    preference: preferenceScore,
    rankers: [],
    ranking: s.ranking,
    tenantRunning: (t) => s.running[t] ?? 0,
    tenantWeight: (t) => s.weights[t] ?? 1,
    maxPlacements: s.maxPlacements,
  };
}

function placeableNow(r: Requirements | undefined, fw: FreeWorker): Resources | undefined {
  if (!naiveFeasible(r, fw.worker) || fw.slots <= 0) return undefined;
  return allocate(demandOf(r), fw.free);
}

/**
 * The reference: at every step, every ready entry is keyed afresh (tenant
 * shares move as the round places) and the smallest key among those some
 * free worker can take now wins; its worker is the best by `rank`, ties to
 * the lower id.
 */
function naiveRound(index: ReadyIndex, fleet: FreeWorker[], ctx: RoundContext): RoundPlacement[] {
  index.promote(ctx.nowMs);
  const extra = new Map<string, number>();
  const order: OrderContext = {
    nowMs: ctx.nowMs,
    agingMs: ctx.agingMs,
    tenantShare: (t) => (ctx.tenantRunning(t) + (extra.get(t) ?? 0)) / Math.max(1e-9, ctx.tenantWeight(t)),
  };
  const out: RoundPlacement[] = [];
  while (out.length < ctx.maxPlacements) {
    let best: { e: QueueEntry; k: OrderKey } | undefined;
    for (const e of index.all()) {
      const k = index.keyOf(e, order);
      if (!k) continue;
      const r = e.task.spec?.requirements;
      if (!fleet.some((fw) => placeableNow(r, fw))) continue;
      if (!best || compareKeys(k, best.k) < 0) best = { e, k };
    }
    if (!best) break;
    const e = best.e;
    let chosen: { fw: FreeWorker; holding: Resources; score: number } | undefined;
    for (const fw of fleet) {
      const holding = placeableNow(e.task.spec?.requirements, fw);
      if (!holding) continue;
      const score = rank(e, fw, holding, ctx);
      if (!chosen || score > chosen.score || (score === chosen.score && fw.worker.id < chosen.fw.worker.id)) chosen = { fw, holding, score };
    }
    const { fw, holding } = chosen!;
    index.take(e.task.id);
    fw.slots--;
    addResources(fw.free, holding, -1);
    extra.set(e.tenant, (extra.get(e.tenant) ?? 0) + 1);
    out.push({ entry: e, workerId: fw.worker.id, holding });
  }
  return out;
}

/** A round as "task@worker" steps, for comparing and for reading a failure. */
function sequenceOf(p: RoundPlacement[]): string[] {
  return p.map((x) => `${x.entry.task.id}@${x.workerId}`);
}

function covers(free: Resources, r: Resources): boolean {
  if (r.cpu > free.cpu || r.memory > free.memory) return false;
  for (const [k, n] of r.devices) if (n > (free.devices.get(k) ?? 0)) return false;
  return true;
}

/** True when `holding` is exactly what `allocate` takes for the demand from some free pool. */
function holdingMatchesDemand(r: Requirements | undefined, holding: Resources): boolean {
  const d = demandOf(r);
  if (holding.cpu !== d.cpu || holding.memory !== d.memory) return false;
  let devices = 0;
  for (const n of holding.devices.values()) devices += n;
  return devices === d.count + d.allOf.length;
}

describe('scheduleRound', () => {
  it('places exactly as a naive full scan of the ready tasks', () => {
    fc.assert(
      fc.property(caseArb, ({ fleet, queue, setting }) => {
        const ctx = roundContext(setting);
        const fast = scheduleRound(buildIndex(queue), buildFleet(fleet), ctx);
        const naive = naiveRound(buildIndex(queue), buildFleet(fleet), ctx);
        expect(sequenceOf(fast)).toEqual(sequenceOf(naive));
        fast.forEach((p, i) => expect(p.holding).toEqual(naive[i].holding));
        // Half the workers keep their feasibility from one round to the next, as the dispatcher's do.
        const feasible = fleet.map(() => new Map<string, boolean>());
        const keeping = () => buildFleet(fleet).map((fw, i) => (i % 2 === 0 ? { ...fw, feasible: feasible[i] } : fw));
        scheduleRound(buildIndex(queue), keeping(), ctx);
        expect(sequenceOf(scheduleRound(buildIndex(queue), keeping(), ctx))).toEqual(sequenceOf(naive));
      }),
      { seed, numRuns },
    );
  });

  it('places only on feasible workers, within slots and resources, each task once, leaving nothing placeable', () => {
    fc.assert(
      fc.property(caseArb, ({ fleet, queue, setting }) => {
        const ctx = roundContext(setting);
        const index = buildIndex(queue);
        const before = buildFleet(fleet);
        const workers = copyFleet(before);
        const sizeBefore = index.size;
        const placements = scheduleRound(index, workers, ctx);

        const ids = placements.map((p) => p.entry.task.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(placements.length).toBeLessThanOrEqual(ctx.maxPlacements);

        const byId = new Map(before.map((fw) => [fw.worker.id, fw]));
        const used = new Map<string, { slots: number; res: Resources }>();
        for (const p of placements) {
          const fw = byId.get(p.workerId)!;
          const r = p.entry.task.spec?.requirements;
          expect(naiveFeasible(r, fw.worker)).toBe(true);
          expect(p.entry.notBeforeMs).toBeLessThanOrEqual(nowMs);
          expect(holdingMatchesDemand(r, p.holding)).toBe(true);
          let u = used.get(p.workerId);
          if (!u) used.set(p.workerId, (u = { slots: 0, res: { cpu: 0, memory: 0, devices: new Map() } }));
          u.slots++;
          addResources(u.res, p.holding, 1);
        }
        for (const fw of before) {
          const u = used.get(fw.worker.id);
          if (!u) continue;
          expect(u.slots).toBeLessThanOrEqual(fw.slots);
          expect(covers(fw.free, u.res)).toBe(true);
        }
        // The round's own view of the workers is what the placements left.
        for (const fw of workers) {
          const orig = byId.get(fw.worker.id)!;
          const u = used.get(fw.worker.id);
          expect(fw.slots).toBe(orig.slots - (u?.slots ?? 0));
          const left: Resources = { cpu: orig.free.cpu, memory: orig.free.memory, devices: new Map(orig.free.devices) };
          if (u) addResources(left, u.res, -1);
          expect(fw.free.cpu).toBe(left.cpu);
          expect(fw.free.memory).toBe(left.memory);
          for (const [k, n] of left.devices) expect(fw.free.devices.get(k) ?? 0).toBe(n);
        }

        // No head-of-line blocking: unless the round was cut short, no ready
        // task is left that a free, able worker with room could take.
        if (placements.length < ctx.maxPlacements) {
          const order: OrderContext = { nowMs, agingMs: ctx.agingMs, tenantShare: () => 0 };
          for (const e of index.all()) {
            if (!index.keyOf(e, order)) continue;
            const able = workers.filter((fw) => placeableNow(e.task.spec?.requirements, fw));
            expect(able.map((fw) => `${e.task.id} fits ${fw.worker.id}`)).toEqual([]);
          }
        }

        // The index lost exactly the placed tasks and still adds up.
        expect(index.size).toBe(sizeBefore - placements.length);
        for (const id of ids) expect(index.has(id)).toBe(false);
        let classed = 0;
        for (const cq of index.classes.values()) {
          let levels = 0;
          for (const level of cq.levels.values()) {
            expect(level.size).toBeGreaterThan(0);
            levels += level.size;
          }
          expect(levels).toBe(cq.size);
          classed += cq.size;
        }
        expect(classed + index.delayedSize).toBe(index.size);
        const everyone: OrderContext = { nowMs, agingMs: ctx.agingMs, tenantShare: () => 0 };
        expect(index.inOrder(everyone).length).toBe(index.size);
        for (const e of index.all()) expect(index.get(e.task.id)).toBe(e);
      }),
      { seed, numRuns },
    );
  });

  it('is deterministic: the same inputs give the same placements', () => {
    fc.assert(
      fc.property(caseArb, ({ fleet, queue, setting }) => {
        const ctx = roundContext(setting);
        const a = scheduleRound(buildIndex(queue), buildFleet(fleet), ctx);
        const b = scheduleRound(buildIndex(queue), buildFleet(fleet), ctx);
        expect(sequenceOf(a)).toEqual(sequenceOf(b));
      }),
      { seed, numRuns: 50 },
    );
  });
});
