/**
 * A deterministic simulator of scheduling: the real `CoordinatorState` and
 * the real dispatcher's choice of free workers and round context, driven by
 * a simulated clock instead of timers and sockets.
 *
 * Vocabulary:
 * - **instant** — one simulated time at which something happens. All events
 *   due then (arrivals, attempt ends, worker losses, scripted actions) are
 *   applied first, then one dispatch runs, then the invariants are checked.
 * - **dispatch** — what the coordinator does when kicked: a CheckDeadlines
 *   entry if one is due, then `scheduleRound` over `Dispatcher.freeWorkers`
 *   (slots less running tasks as credits, the breaker's verdict, what
 *   `state.freeOn` leaves) and one AssignAttempts entry; rejected placements
 *   are put back with `state.requeue`. Like the dispatcher, it is woken only
 *   by events and by the next retry backoff's end (`queue.nextDueMs`): not
 *   when a worker's quarantine ends, so its probe waits for the next event.
 * - **outcome model** — how an attempt on a worker ends and how long it
 *   takes: by default it succeeds after the task's simulated duration.
 *
 * Invariants checked at every instant, whatever the trace: no worker holds
 * more running tasks than its slots or more CPU, memory or devices than it
 * has (worked out from the running tasks' requirements, not from the
 * state's own accounting); no attempt starts before all its dependencies
 * succeeded, before its retry backoff ends, or on a worker its breaker
 * bars; the state accepts every placement the dispatcher makes.
 *
 * Everything random comes from one seeded Rng. A failure names its trace and
 * seed, and `SEED=n npx jest test/sim/scheduling -t '<trace>'` replays it.
 */
import { create } from '@bufbuild/protobuf';
import {
  AttemptKeySchema,
  AttemptOutcome,
  AttemptResultSchema,
  DeviceKind,
  TaskState,
  WorkerSchema,
  WorkerState,
  type Task,
  type Worker,
} from '../../libs/gen/dtf/common/v1/common_pb';
import type { Command } from '../../libs/gen/dtf/state/v1/command_pb';
import type { ReplicatedLog } from '../../libs/log/replicated-log';
import { SeededRng } from '../../libs/raft/rng';
import { IndexedHeap } from '../../libs/scheduling/indexed-heap';
import { capacityOf } from '../../libs/scheduling/resources';
import { scheduleRound } from '../../libs/scheduling/schedule-round';
import { GiB, worker } from '../../libs/scheduling/test-workers';
import { demandsFit } from './scheduling-measures';
import { breakerAllows } from '../../libs/state/circuit-breaker';
import { CoordinatorState, type ApplyResult, type StateOptions } from '../../libs/state/coordinator-state';
import { command, submitJob, type TaskInit } from '../../libs/state/test-commands';
import { isFinal } from '../../libs/state/task-transitions';
import { Dispatcher, placementsPerRoundMax, type SchedulingOptions } from '../../services/coordinator/dispatcher';
import type { WorkerHub } from '../../services/coordinator/worker-hub';
import { WorkerSession } from '../../services/coordinator/worker-session';

/** Where simulated time starts: a plausible Unix time, so deadlines look real. */
export const simStartMs = 1_700_000_000_000;
/** Instants one run may take at most: a runaway trace fails instead of hanging. */
export const simInstantsMax = 2_000_000;

export type Flavor = 'cpu' | 'cuda' | 'rocm' | 'mps';

/** One simulated worker. Accelerator workers have a CPU device too, as real ones do. */
export interface SimWorkerInit {
  id: string;
  flavor: Flavor;
  /** Accelerators (not for `cpu`); default 2. */
  devices?: number;
  deviceMemGiB?: number;
  cpuCores?: number;
  memoryGiB?: number;
  slots?: number;
  labels?: Record<string, string>;
}

const kindOf: Record<Flavor, DeviceKind> = { cpu: DeviceKind.CPU, cuda: DeviceKind.CUDA, rocm: DeviceKind.ROCM, mps: DeviceKind.MPS };

export function simWorker(init: SimWorkerInit): Worker {
  const accel = init.flavor === 'cpu' ? [] : Array.from({ length: init.devices ?? 2 }, (): [DeviceKind, bigint] => [kindOf[init.flavor], BigInt(init.deviceMemGiB ?? 40) * GiB]);
  const w = worker({
    id: init.id,
    name: init.id,
    cpuCores: init.cpuCores ?? 8,
    memoryBytes: BigInt(init.memoryGiB ?? 32) * GiB,
    devices: [[DeviceKind.CPU, 0n], ...accel],
    labels: { flavor: init.flavor, ...init.labels },
  });
  w.slots = init.slots ?? 4;
  return w;
}

/**
 * A mixed fleet: four CPU workers (8 cores, 32 GiB, 4 slots), two CUDA
 * workers (16 cores, 64 GiB, 2 GPUs of 40 GiB, 4 slots), one ROCm worker
 * (16 cores, 64 GiB, 2 GPUs, 4 slots) and one MPS laptop (8 cores, 16 GiB,
 * 1 device, 2 slots): 30 slots.
 */
export function mixedFleet(): SimWorkerInit[] {
  return [
    ...[0, 1, 2, 3].map((i): SimWorkerInit => ({ id: `cpu-${i}`, flavor: 'cpu', cpuCores: 8, memoryGiB: 32, slots: 4 })),
    ...[0, 1].map((i): SimWorkerInit => ({ id: `cuda-${i}`, flavor: 'cuda', cpuCores: 16, memoryGiB: 64, devices: 2, deviceMemGiB: 40, slots: 4 })),
    { id: 'rocm-0', flavor: 'rocm', cpuCores: 16, memoryGiB: 64, devices: 2, deviceMemGiB: 64, slots: 4 },
    { id: 'mps-0', flavor: 'mps', cpuCores: 8, memoryGiB: 16, devices: 1, deviceMemGiB: 16, slots: 2 },
  ];
}

/** A task as a trace submits it: its spec and how long it runs when it runs. */
export interface SimTask extends TaskInit {
  durationMs: number;
}

/** How one attempt will end and after how long. */
export interface AttemptPlan {
  outcome: AttemptOutcome;
  durationMs: number;
}

export interface AttemptContext {
  task: Task;
  attempt: number;
  workerId: string;
  nowMs: number;
  /** The task's simulated duration. */
  durationMs: number;
  rng: SeededRng;
}

export type OutcomeModel = (a: AttemptContext) => AttemptPlan;

export const alwaysSucceeds: OutcomeModel = (a) => ({ outcome: AttemptOutcome.SUCCEEDED, durationMs: a.durationMs });

export interface SimOptions {
  /** The trace's name, for failure messages and replays. */
  trace: string;
  seed: number;
  fleet: SimWorkerInit[];
  state?: Partial<StateOptions>;
  scheduling?: Partial<Omit<SchedulingOptions, 'plugins'>>;
  outcome?: OutcomeModel;
}

/** One attempt as the simulator saw it start and end. */
export interface AttemptRecord {
  taskId: string;
  jobId: string;
  tenant: string;
  priority: number;
  attempt: number;
  workerId: string;
  startMs: number;
  /** When it ended or is planned to end. */
  endMs: number;
  outcome: AttemptOutcome;
  /** The worker was on probation (a probe after quarantine). */
  probe: boolean;
}

/** One submission and what the state answered. */
export interface SubmissionRecord {
  timeMs: number;
  jobId: string;
  tenant: string;
  priority: number;
  tasks: number;
  result: ApplyResult['kind'];
}

interface SimEvent {
  timeMs: number;
  seq: number;
  pos: number;
  cancelled: boolean;
  run: () => void;
}

export class SchedulingSim {
  readonly state: CoordinatorState;
  readonly rng: SeededRng;
  nowMs = simStartMs;
  /** Every attempt started, in start order. */
  readonly attempts: AttemptRecord[] = [];
  readonly submissions: SubmissionRecord[] = [];
  /** Instants processed. */
  instants = 0;
  private readonly events = new IndexedHeap<SimEvent>((a, b) => a.timeMs < b.timeMs || (a.timeMs === b.timeMs && a.seq < b.seq), 'pos');
  private eventSeq = 0;
  private logIndex = 0n;
  private readonly dispatcher: Dispatcher;
  /** Real sessions without a stream: the dispatcher reads their credits and top-up rule; nothing is sent. */
  private readonly sessions = new Map<string, WorkerSession>();
  private readonly fleet = new Map<string, Worker>();
  private readonly durations = new Map<string, number>();
  /** Running attempts: task id → its record and its end event. */
  private readonly inFlight = new Map<string, { rec: AttemptRecord; end: SimEvent }>();
  /** Per job, task name → task id, for checking dependencies. */
  private readonly byName = new Map<string, Map<string, string>>();
  private readonly outcome: OutcomeModel;
  private readonly observers: ((sim: SchedulingSim, elapsedMs: number) => void)[] = [];

  constructor(readonly options: SimOptions) {
    this.rng = new SeededRng(options.seed);
    this.state = new CoordinatorState(options.state);
    this.outcome = options.outcome ?? alwaysSucceeds;
    // The hub and log are the dispatcher's seams to the network and disk:
    // only `sessions` is read by the parts used here, and the log not at all.
    const hub = { sessions: this.sessions } as unknown as WorkerHub;
    this.dispatcher = new Dispatcher(this.state, {} as ReplicatedLog, hub, (e) => {
      throw this.fail(`dispatcher error: ${e.message}`);
    }, () => this.nowMs, { ...options.scheduling, plugins: [] });
    for (const init of options.fleet) {
      const w = simWorker(init);
      this.fleet.set(w.id, w);
      this.join(w.id);
    }
  }

  /** An error that names the trace and seed, and how to replay it. */
  fail(message: string): Error {
    const { trace, seed } = this.options;
    return new Error(`[${trace}, seed ${seed}, t=+${this.nowMs - simStartMs} ms] ${message}\n  replay: SEED=${seed} npx jest test/sim/scheduling -t '${trace}'`);
  }

  /** Applies one log entry now. An `error` answer is a failure of the run. */
  apply(kind: Command['kind']): ApplyResult {
    this.logIndex++;
    const res = this.state.apply(this.logIndex, command(BigInt(this.nowMs), kind));
    if (res.kind === 'error') throw this.fail(`${kind.case} refused: ${res.message}`);
    return res;
  }

  /** Runs `action` at `timeMs` (simulated), as an event of that instant. */
  at(timeMs: number, action: () => void): SimEvent {
    if (timeMs < this.nowMs) throw this.fail(`event scheduled in the past (${timeMs - simStartMs} ms)`);
    const e: SimEvent = { timeMs, seq: this.eventSeq++, pos: -1, cancelled: false, run: action };
    this.events.push(e);
    return e;
  }

  /** Submits a job at `timeMs`; the state's answer is kept in `submissions`. */
  submitAt(timeMs: number, jobId: string, tenant: string, tasks: SimTask[], idempotencyKey = ''): void {
    this.at(timeMs, () => this.submit(jobId, tenant, tasks, idempotencyKey));
  }

  submit(jobId: string, tenant: string, tasks: SimTask[], idempotencyKey = ''): ApplyResult {
    const res = this.apply(submitJob(jobId, tasks, idempotencyKey, tenant));
    const priority = tasks.reduce((m, t) => Math.max(m, t.priority ?? 0), -Infinity);
    this.submissions.push({ timeMs: this.nowMs, jobId, tenant, priority, tasks: tasks.length, result: res.kind });
    if (res.kind === 'submitted' && !res.duplicate) {
      const names = new Map<string, string>();
      for (const t of tasks) {
        this.durations.set(t.id, t.durationMs);
        names.set(t.spec?.name ?? t.id, t.id);
      }
      this.byName.set(jobId, names);
    }
    return res;
  }

  /** Loses the worker at `timeMs` (its running attempts end WORKER_LOST); it rejoins after `downMs`. */
  loseWorkerAt(timeMs: number, workerId: string, downMs: number): void {
    this.at(timeMs, () => this.loseWorker(workerId, downMs));
  }

  loseWorker(workerId: string, downMs: number): void {
    for (const [taskId, f] of this.inFlight) {
      if (f.rec.workerId !== workerId) continue;
      f.end.cancelled = true;
      f.rec.endMs = this.nowMs;
      f.rec.outcome = AttemptOutcome.WORKER_LOST;
      this.inFlight.delete(taskId);
    }
    this.apply({ case: 'workerLost', value: { $typeName: 'dtf.state.v1.WorkerLost', workerId, reason: 'simulated loss' } });
    this.sessions.get(workerId)!.closed = true;
    this.at(this.nowMs + downMs, () => this.join(workerId));
  }

  /** Called after every instant with the simulated time since the previous one. */
  observe(fn: (sim: SchedulingSim, elapsedMs: number) => void): void {
    this.observers.push(fn);
  }

  /** The worker as the state knows it now. */
  workerState(id: string): Worker {
    return this.state.workers.get(id)!;
  }

  /**
   * Plays events until none is left and nothing is waiting for a backoff
   * (or until `untilMs`); then every acknowledged task that some worker
   * could run has ended.
   */
  run(untilMs = Infinity): void {
    for (;;) {
      const next = this.nextInstant();
      if (next === undefined || next > untilMs) break;
      if (++this.instants > simInstantsMax) throw this.fail(`more than ${simInstantsMax} instants: runaway trace`);
      const elapsed = next - this.nowMs;
      this.nowMs = next;
      for (let e = this.events.peek(); e && e.timeMs === next; e = this.events.peek()) {
        this.events.pop();
        if (!e.cancelled) e.run();
      }
      this.dispatch();
      this.check();
      for (const o of this.observers) o(this, elapsed);
    }
    if (Number.isFinite(untilMs) && untilMs > this.nowMs) this.nowMs = untilMs;
  }

  /** Tasks of the state, by id. */
  task(id: string): Task {
    const t = this.state.tasks.get(id)?.task;
    if (!t) throw this.fail(`no task ${id}`);
    return t;
  }

  /** All tasks not yet in a final state. */
  unfinished(): Task[] {
    return [...this.state.tasks.values()].map((r) => r.task).filter((t) => !isFinal(t.state));
  }

  private nextInstant(): number | undefined {
    let next = this.events.peek()?.timeMs;
    // As the dispatcher's due timer: a backoff that ends later wakes it.
    const due = this.state.queue.nextDueMs();
    if (due !== undefined && due > this.nowMs && (next === undefined || due < next)) next = due;
    return next;
  }

  private join(workerId: string): void {
    const w = this.fleet.get(workerId)!;
    this.apply({ case: 'workerJoined', value: { $typeName: 'dtf.state.v1.WorkerJoined', worker: create(WorkerSchema, { ...w, running: [] }) } });
    this.sessions.set(workerId, new WorkerSession(workerId, 1n, w.slots, w.slots, this.nowMs, undefined));
  }

  private dispatch(): void {
    if (this.state.deadlinesDue(this.nowMs)) this.apply({ case: 'checkDeadlines', value: { $typeName: 'dtf.state.v1.CheckDeadlines' } });
    // Credits: what each worker has not been given yet (results return them at once here).
    for (const s of this.sessions.values()) s.credits = Math.max(0, this.fleet.get(s.workerId)!.slots - this.state.runningCount(s.workerId));
    const free = this.dispatcher.freeWorkers(this.nowMs);
    if (free.length === 0 || this.state.queue.size === 0) return;
    const allows = new Map(free.map((fw) => [fw.worker.id, breakerAllows(fw.worker.breaker, BigInt(this.nowMs))]));
    const placements = scheduleRound(this.state.queue, free, this.dispatcher.roundContext(this.nowMs));
    if (placements.length === 0) return;
    if (placements.length > placementsPerRoundMax) throw this.fail(`round placed ${placements.length} tasks`);
    const byTask = new Map(placements.map((p) => [p.entry.task.id, p]));
    for (const p of placements) this.checkStartable(p.entry.task, p.workerId);
    const res = this.apply({
      case: 'assignAttempts',
      value: {
        $typeName: 'dtf.state.v1.AssignAttempts',
        placements: placements.map((p) => ({
          $typeName: 'dtf.state.v1.Placement' as const,
          key: create(AttemptKeySchema, { taskId: p.entry.task.id, attempt: p.entry.task.attempt + 1 }),
          workerId: p.workerId,
        })),
      },
    });
    if (res.kind !== 'assigned') throw this.fail(`assignAttempts answered ${res.kind}`);
    for (const key of res.rejected) {
      this.state.requeue(byTask.get(key.taskId)!.entry);
    }
    if (res.rejected.length > 0) throw this.fail(`the state rejected placements the dispatcher made: ${res.rejected.map((k) => k.taskId).join(', ')}`);
    for (const a of res.accepted) this.started(a.task, a.key.attempt, a.workerId, allows.get(a.workerId) === 'probe');
  }

  /** The invariants of a start: dependencies succeeded and ended, backoff over. */
  private checkStartable(task: Task, workerId: string): void {
    if (task.state !== TaskState.PENDING) throw this.fail(`${task.id} placed while ${TaskState[task.state]}`);
    if (BigInt(this.nowMs) < task.notBeforeMs) throw this.fail(`${task.id} placed on ${workerId} ${Number(task.notBeforeMs) - this.nowMs} ms before its backoff ends`);
    const names = this.byName.get(task.jobId)!;
    for (const dep of task.spec?.dependsOn ?? []) {
      const d = this.task(names.get(dep)!);
      if (d.state !== TaskState.SUCCEEDED || Number(d.finishedAtMs) > this.nowMs) {
        throw this.fail(`${task.id} placed before its dependency ${d.id} succeeded (it is ${TaskState[d.state]})`);
      }
    }
  }

  private started(task: Task, attempt: number, workerId: string, probe: boolean): void {
    const durationMs = this.durations.get(task.id) ?? 0;
    const plan = this.outcome({ task, attempt, workerId, nowMs: this.nowMs, durationMs, rng: this.rng });
    const rec: AttemptRecord = {
      taskId: task.id, jobId: task.jobId, tenant: this.state.tenantOf(task.id), priority: task.spec?.priority ?? 0,
      attempt, workerId, startMs: this.nowMs, endMs: this.nowMs + plan.durationMs, outcome: plan.outcome, probe,
    };
    this.attempts.push(rec);
    const end = this.at(rec.endMs, () => {
      this.inFlight.delete(task.id);
      const result = create(AttemptResultSchema, {
        key: { taskId: task.id, attempt },
        outcome: plan.outcome,
        workerId,
        exitCode: plan.outcome === AttemptOutcome.SUCCEEDED ? 0 : 1,
        startedAtMs: BigInt(rec.startMs),
        finishedAtMs: BigInt(this.nowMs),
      });
      const res = this.apply({ case: 'finishAttempts', value: { $typeName: 'dtf.state.v1.FinishAttempts', results: [result] } });
      if (res.kind !== 'finished' || !res.recorded[0]) throw this.fail(`result of ${task.id}#${attempt} was not recorded`);
    });
    this.inFlight.set(task.id, { rec, end });
  }

  /** Slots and resources of every worker, from its running tasks' requirements. */
  private check(): void {
    for (const [id, w] of this.fleet) {
      const running = this.state.runningOn(id);
      if (running.length > w.slots) throw this.fail(`${id} runs ${running.length} tasks on ${w.slots} slots`);
      const reqs = running.map((t) => t.spec?.requirements);
      if (!demandsFit(reqs, capacityOf(w))) {
        throw this.fail(`${id} runs more than it has: ${running.map((t) => t.id).join(', ')}`);
      }
      const ws = this.state.workers.get(id)!;
      if (running.length > 0 && ws.state !== WorkerState.ONLINE) throw this.fail(`${id} is ${WorkerState[ws.state]} but runs ${running.length} tasks`);
    }
  }
}
