/**
 * The arrival traces of the scheduling simulation, one function each: what
 * arrives when, on which fleet, and how attempts end. Each builds a
 * {@link SchedulingSim} from a seed; the tests run it and judge the outcome.
 */
import { create } from '@bufbuild/protobuf';
import { AttemptOutcome, DeviceKind, RetryPolicySchema } from '../../libs/gen/dtf/common/v1/common_pb';
import type { SeededRng } from '../../libs/raft/rng';
import { GiB, req, type RequirementsInit } from '../../libs/scheduling/test-workers';
import { mixedFleet, SchedulingSim, simStartMs, type OutcomeModel, type SimTask, type SimWorkerInit } from './scheduling-sim';

const { CUDA, ROCM, MPS } = DeviceKind;

/** A uniform integer in [min, max]. */
export function between(rng: SeededRng, min: number, max: number): number {
  return min + rng.nextInt(max - min + 1);
}

function shuffle<T>(rng: SeededRng, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/** Tasks of one job, each needing a core and running 0.5–1.5 s. */
function plainTasks(rng: SeededRng, jobId: string, n: number, priority = 0): SimTask[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${jobId}.${i}`,
    priority,
    durationMs: between(rng, 500, 1500),
    spec: reqSpec({ cpuCores: 1 }),
  }));
}

/** Requirements as a spec field; none for undefined. */
function reqSpec(r: RequirementsInit | undefined): SimTask['spec'] {
  return r ? { requirements: req(r) } : {};
}

export interface FairShareTrace {
  sim: SchedulingSim;
  tenants: string[];
  weights: Record<string, number>;
  /** Arrivals stop here; every tenant still has a backlog. */
  endMs: number;
}

/**
 * Contention between tenants, each able to fill the fleet alone: `big`
 * submits one job of 1,600 tasks at once; `small` a 4-task job every 100 ms;
 * `mid` (when present) a 10-task job every 250 ms; 40 s of arrivals on the
 * mixed fleet (30 slots, about 30 tasks/s).
 */
export function fairShareTrace(seed: number, trace: string, weights: Record<string, number>): FairShareTrace {
  const sim = new SchedulingSim({ trace, seed, fleet: mixedFleet(), scheduling: { tenantWeights: weights } });
  const rng = sim.rng;
  const endMs = simStartMs + 40_000;
  const tenants = Object.keys(weights);
  sim.submitAt(simStartMs, 'big-0', 'big', plainTasks(rng, 'big-0', 1600));
  for (let t = simStartMs, i = 0; t < endMs; t += 100, i++) sim.submitAt(t, `small-${i}`, 'small', plainTasks(rng, `small-${i}`, 4));
  if (tenants.includes('mid')) {
    for (let t = simStartMs, i = 0; t < endMs; t += 250, i++) sim.submitAt(t, `mid-${i}`, 'mid', plainTasks(rng, `mid-${i}`, 10));
  }
  return { sim, tenants, weights, endMs };
}

export interface StarvationTrace {
  sim: SchedulingSim;
  /** The low-priority tasks, with their submission times. */
  low: { id: string; priority: number; submittedMs: number }[];
  /** The highest priority in the trace. */
  maxPriority: number;
  /** The longest simulated task duration. */
  longestMs: number;
  /** High-priority arrivals stop here. */
  loadEndMs: number;
}

/**
 * Sustained priority-3 load at 40 tasks/s (the fleet runs about 30/s) for
 * 60 s, plus four bursts of three low tasks (priorities 0, 1 and 2) from
 * another tenant, at 5, 15, 25 and 35 s.
 */
export function starvationTrace(seed: number, trace: string, agingMs: number): StarvationTrace {
  const sim = new SchedulingSim({ trace, seed, fleet: mixedFleet(), scheduling: { agingMs } });
  const rng = sim.rng;
  const loadEndMs = simStartMs + 60_000;
  let longestMs = 0;
  for (let t = simStartMs, i = 0; t < loadEndMs; t += 250, i++) {
    const tasks = plainTasks(rng, `hi-${i}`, 10, 3);
    for (const x of tasks) longestMs = Math.max(longestMs, x.durationMs);
    sim.submitAt(t, `hi-${i}`, 'hi', tasks);
  }
  const low: StarvationTrace['low'] = [];
  [5_000, 15_000, 25_000, 35_000].forEach((at, b) => {
    for (const priority of [0, 1, 2]) {
      const jobId = `lo-${b}-p${priority}`;
      const tasks = plainTasks(rng, jobId, 1, priority);
      longestMs = Math.max(longestMs, tasks[0].durationMs);
      sim.submitAt(simStartMs + at, jobId, 'lo', tasks);
      low.push({ id: tasks[0].id, priority, submittedMs: simStartMs + at });
    }
  });
  return { sim, low, maxPriority: 3, longestMs, loadEndMs };
}

export interface DeadlineTask {
  id: string;
  arrivalMs: number;
  deadlineMs: number;
}

export interface DeadlineTrace {
  sim: SchedulingSim;
  tasks: DeadlineTask[];
  slots: number;
  durationMs: number;
}

/** Six slots: two CPU workers and a CUDA one, two slots each. */
export const deadlineFleet: SimWorkerInit[] = [
  { id: 'cpu-0', flavor: 'cpu', slots: 2 },
  { id: 'cpu-1', flavor: 'cpu', slots: 2 },
  { id: 'cuda-0', flavor: 'cuda', slots: 2, cpuCores: 16, memoryGiB: 64 },
];

/**
 * Tasks of one second each, built from an EDF schedule: time is cut into
 * one-second steps, step s gets up to `perStep` tasks, each due at the end
 * of its step plus under a step of slack (so steps' deadlines never
 * interleave) and arriving at a random earlier step boundary. With six slots
 * and at most six tasks a step, EDF runs step s's tasks in step s, so it
 * meets every deadline; FIFO runs them in arrival order and need not. Tasks
 * arriving together are submitted in random order, each as its own job.
 *
 * `withDeadlines: false` submits the same tasks without deadlines: FIFO.
 */
export function deadlineTrace(seed: number, trace: string, withDeadlines: boolean, perStep: [min: number, max: number]): DeadlineTrace {
  const sim = new SchedulingSim({ trace, seed, fleet: deadlineFleet });
  // The trace is drawn from its own stream, so both variants get the same tasks.
  const rng = new SchedulingSim({ trace, seed: seed ^ 0x5eed, fleet: [] }).rng;
  const durationMs = 1000;
  const steps = 15;
  const tasks: DeadlineTask[] = [];
  for (let s = 0; s < steps; s++) {
    const n = between(rng, perStep[0], perStep[1]);
    for (let k = 0; k < n; k++) {
      tasks.push({
        id: `d${s}.${k}`,
        arrivalMs: simStartMs + durationMs * between(rng, 0, s),
        deadlineMs: simStartMs + durationMs * (s + 1) + between(rng, 0, durationMs - 1),
      });
    }
  }
  const byArrival = new Map<number, DeadlineTask[]>();
  for (const t of tasks) byArrival.set(t.arrivalMs, [...(byArrival.get(t.arrivalMs) ?? []), t]);
  for (const [at, group] of [...byArrival].sort((a, b) => a[0] - b[0])) {
    for (const t of shuffle(rng, group)) {
      sim.submitAt(at, `job-${t.id}`, 'edf', [{
        id: t.id,
        durationMs,
        spec: { expectedDurationMs: durationMs, deadlineMs: withDeadlines ? BigInt(t.deadlineMs) : 0n },
      }]);
    }
  }
  return { sim, tasks, slots: 6, durationMs };
}

export interface DagTrace {
  sim: SchedulingSim;
  /** Per job: task id → ids of the tasks it depends on. */
  deps: Map<string, Map<string, string[]>>;
  /** Tasks whose single attempt fails (a test failure, not retried). */
  failing: Set<string>;
  /** Tasks whose first attempt fails to start (retried after a backoff). */
  flaky: Set<string>;
  backoffMs: number;
}

const dagRequirements: (RequirementsInit | undefined)[] = [undefined, { cpuCores: 2 }, { anyOf: [CUDA], deviceCount: 1 }, { anyOf: [CUDA, ROCM] }];

/**
 * Three jobs of 24 tasks with random dependencies (each task on up to three
 * earlier ones), mixed requirements, on the mixed fleet: `ok` runs clean,
 * `one` has one failing task, `two` has two failing tasks, and every job
 * has a few tasks whose first attempt fails to start.
 */
export function dagTrace(seed: number, trace: string): DagTrace {
  const backoffMs = 700;
  const failing = new Set<string>();
  const flaky = new Set<string>();
  const outcome: OutcomeModel = (a) => {
    if (failing.has(a.task.id)) return { outcome: AttemptOutcome.FAILED, durationMs: a.durationMs };
    if (flaky.has(a.task.id) && a.attempt === 1) return { outcome: AttemptOutcome.START_FAILED, durationMs: 20 };
    return { outcome: AttemptOutcome.SUCCEEDED, durationMs: a.durationMs };
  };
  const sim = new SchedulingSim({ trace, seed, fleet: mixedFleet(), outcome });
  const rng = sim.rng;
  const deps = new Map<string, Map<string, string[]>>();
  const jobs: [string, number][] = [['ok', 0], ['one', 1], ['two', 2]];
  for (const [jobId, failures] of jobs) {
    const n = 24;
    const ids = Array.from({ length: n }, (_, i) => `${jobId}.t${i}`);
    const jobDeps = new Map<string, string[]>();
    const tasks: SimTask[] = ids.map((id, i) => {
      const d = new Set<string>();
      const k = i === 0 ? 0 : between(rng, 0, 3);
      for (let j = 0; j < k; j++) d.add(ids[rng.nextInt(i)]);
      jobDeps.set(id, [...d]);
      return {
        id,
        retries: 2,
        durationMs: between(rng, 200, 2000),
        spec: { ...reqSpec(dagRequirements[rng.nextInt(dagRequirements.length)]), dependsOn: [...d], retry: create(RetryPolicySchema, { initialBackoffMs: backoffMs, multiplier: 2 }) },
      };
    });
    // Fail tasks that others depend on, so something is skipped.
    const depended = shuffle(rng, ids.filter((id) => ids.some((o) => jobDeps.get(o)!.includes(id))));
    for (const id of depended.slice(0, failures)) failing.add(id);
    for (const id of shuffle(rng, ids.filter((x) => !failing.has(x))).slice(0, 3)) flaky.add(id);
    deps.set(jobId, jobDeps);
    sim.submitAt(simStartMs + between(rng, 0, 2000), jobId, `tenant-${jobId}`, tasks);
  }
  return { sim, deps, failing, flaky, backoffMs };
}

export interface BreakerTrace {
  sim: SchedulingSim;
  bad: string;
  threshold: number;
  cooldownMs: number;
  /** The bad worker fails every attempt until then. */
  healedMs: number;
  /** When it is lost (each time while running something). */
  lossesMs: number[];
  clearMs: number;
  loadEndMs: number;
}

/**
 * Three sound CPU workers and one bad one, two slots each, under a steady
 * load of one-second tasks (a 4-task job every 500 ms: the fleet's whole
 * capacity). Until `healedMs` every attempt on the bad worker ends in an
 * infrastructure failure (start failures and timeouts in turn); later it is
 * lost three times in a row, and an operator clears its quarantine.
 */
export function breakerTrace(seed: number, trace: string): BreakerTrace {
  const bad = 'cpu-bad';
  const threshold = 3;
  const cooldownMs = 10_000;
  const healedMs = simStartMs + 35_000;
  const lossesMs = [90_000, 91_300, 92_600].map((t) => simStartMs + t);
  const clearMs = simStartMs + 95_000;
  const loadEndMs = simStartMs + 120_000;
  let badAttempts = 0;
  const outcome: OutcomeModel = (a) => {
    if (a.workerId !== bad || a.nowMs >= healedMs) return { outcome: AttemptOutcome.SUCCEEDED, durationMs: a.durationMs };
    return ++badAttempts % 2 === 1 ? { outcome: AttemptOutcome.START_FAILED, durationMs: 50 } : { outcome: AttemptOutcome.TIMED_OUT, durationMs: 300 };
  };
  const fleet: SimWorkerInit[] = [0, 1, 2].map((i) => ({ id: `cpu-${i}`, flavor: 'cpu', slots: 2 }));
  fleet.push({ id: bad, flavor: 'cpu', slots: 2 });
  const sim = new SchedulingSim({ trace, seed, fleet, outcome, state: { breaker: { threshold, cooldownMs, cooldownMaxMs: 60_000 } } });
  for (let t = simStartMs, i = 0; t < loadEndMs; t += 500, i++) {
    sim.submitAt(t, `j${i}`, 'ci', Array.from({ length: 4 }, (_, k) => ({ id: `j${i}.${k}`, retries: 6, durationMs: 1000 })));
  }
  // Lose it only while it runs something: a loss of an idle worker is no failure of it.
  const lose = (at: number): void => {
    sim.at(at, () => {
      if (sim.state.runningCount(bad) === 0) throw sim.fail(`${bad} is idle at its scripted loss`);
      sim.loseWorker(bad, 500);
    });
  };
  lossesMs.forEach(lose);
  sim.at(clearMs, () => sim.apply({ case: 'setWorkerFlags', value: { $typeName: 'dtf.state.v1.SetWorkerFlags', workerId: bad, clearQuarantine: true } }));
  return { sim, bad, threshold, cooldownMs, healedMs, lossesMs, clearMs, loadEndMs };
}

export interface SheddingTrace {
  sim: SchedulingSim;
  queuedMax: number;
  tenantQueuedMax: number;
  arrivalsEndMs: number;
  /** Idempotency keys of accepted jobs resubmitted while the queue was full, and what came back. */
  resubmitted: { key: string; result: string; duplicate: boolean }[];
}

/**
 * Overload: three tenants each submit a job of 1–8 tasks every 200 ms
 * (about 68 tasks/s, over twice what the fleet runs) at priorities −1, 0
 * and 1, for 40 s, with small queue bounds. One attempt in twenty times out
 * and is retried once. Every 5 s an accepted job is submitted again under
 * its idempotency key, as a client would after a lost answer.
 */
export function sheddingTrace(seed: number, trace: string): SheddingTrace {
  const queuedMax = 300;
  const tenantQueuedMax = 150;
  const outcome: OutcomeModel = (a) =>
    a.attempt === 1 && a.rng.chance(0.05) ? { outcome: AttemptOutcome.TIMED_OUT, durationMs: a.durationMs } : { outcome: AttemptOutcome.SUCCEEDED, durationMs: a.durationMs };
  const sim = new SchedulingSim({ trace, seed, fleet: mixedFleet(), outcome, state: { bounds: { queuedMax, tenantQueuedMax } } });
  const rng = sim.rng;
  const arrivalsEndMs = simStartMs + 40_000;
  const sent = new Map<string, { tenant: string; tasks: SimTask[] }>();
  for (let t = simStartMs, i = 0; t < arrivalsEndMs; t += 200, i++) {
    for (const tenant of ['t1', 't2', 't3']) {
      const jobId = `${tenant}-${i}`;
      const tasks = plainTasks(rng, jobId, between(rng, 1, 8), [-1, 0, 1][rng.nextInt(3)]).map((x) => ({ ...x, retries: 1 }));
      sent.set(jobId, { tenant, tasks });
      sim.submitAt(t + rng.nextInt(200), jobId, tenant, tasks, `key-${jobId}`);
    }
  }
  const resubmitted: SheddingTrace['resubmitted'] = [];
  for (let t = simStartMs + 5_000; t < arrivalsEndMs; t += 5_000) {
    sim.at(t, () => {
      const accepted = sim.submissions.filter((s) => s.result === 'submitted' && sent.has(s.jobId));
      const s = accepted[rng.nextInt(accepted.length)];
      const res = sim.submit(`again-${s.jobId}`, s.tenant, sent.get(s.jobId)!.tasks, `key-${s.jobId}`);
      resubmitted.push({ key: `key-${s.jobId}`, result: res.kind, duplicate: res.kind === 'submitted' && res.duplicate });
    });
  }
  return { sim, queuedMax, tenantQueuedMax, arrivalsEndMs, resubmitted };
}

const resourceRequirements: (RequirementsInit | undefined)[] = [
  undefined,
  { cpuCores: 4 },
  { cpuCores: 8, memoryBytes: 24n * GiB },
  { anyOf: [CUDA], deviceCount: 1, cpuCores: 2 },
  { anyOf: [CUDA], deviceCount: 2, memoryBytes: 16n * GiB },
  { anyOf: [ROCM], cpuCores: 4 },
  { anyOf: [CUDA, ROCM], cpuCores: 6 },
  { anyOf: [MPS], memoryBytes: 8n * GiB },
  { allOf: [CUDA], cpuCores: 1 },
];

/**
 * Tasks of every shape (CPU- and memory-heavy, one or two GPUs, any-of
 * CUDA or ROCm, MPS) from four tenants at about twice what the mixed fleet
 * can hold, for 30 s: resources, not slots, are what run out.
 */
export function resourcesTrace(seed: number, trace: string): SchedulingSim {
  const sim = new SchedulingSim({ trace, seed, fleet: mixedFleet(), scheduling: { ranking: { default: 'binpack', pools: {} } } });
  const rng = sim.rng;
  for (let t = simStartMs, i = 0; t < simStartMs + 30_000; t += 250, i++) {
    const tenant = `r${i % 4}`;
    const tasks: SimTask[] = Array.from({ length: between(rng, 1, 6) }, (_, k) => ({
      id: `res-${i}.${k}`,
      priority: rng.nextInt(2),
      durationMs: between(rng, 200, 3000),
      spec: reqSpec(resourceRequirements[rng.nextInt(resourceRequirements.length)]),
    }));
    sim.submitAt(t, `res-${i}`, tenant, tasks);
  }
  return sim;
}
