import { TaskState, WorkerState, type AttemptKey, type Requirements, type Worker } from '../../libs/gen/dtf/common/v1/common_pb';
import type { Placement, SubmitJob } from '../../libs/gen/dtf/state/v1/command_pb';
import type { Assignment } from '../../libs/gen/dtf/worker/v1/worker_service_pb';
import type { ReplicatedLog } from '../../libs/log/replicated-log';
import { firstRefusal } from '../../libs/scheduling/feasibility';
import type { FeasibilityChecker, Ranker, Refusal, SchedulerPlugin } from '../../libs/scheduling/plugin';
import { pluginCheckers, pluginRankers } from '../../libs/scheduling/plugin-guards';
import { preferenceScore } from '../../libs/scheduling/preferences';
import { ReadyIndex, type NewEntry, type QueueEntry } from '../../libs/scheduling/ready-index';
import { requirementClass } from '../../libs/scheduling/requirement-class';
import { addResources, capacityOf, emptyResources, freeInto, subtract, type Resources } from '../../libs/scheduling/resources';
import { defaultRanking, scheduleRound, type FreeWorker, type RankingPolicy, type RoundContext } from '../../libs/scheduling/schedule-round';
import { breakerAllows } from '../../libs/state/circuit-breaker';
import { compactSpec } from '../../libs/state/compact-spec';
import { defaultTenant, type ApplyResult, type CoordinatorState, type Placed } from '../../libs/state/coordinator-state';
import { hasDependencies, planJob } from '../../libs/state/job-plan';
import { newTask } from '../../libs/state/new-task';
import type { WorkerRoomNow } from '../../libs/scheduling/explain-task';
import type { WorkerHub } from './worker-hub';
import type { WorkerSession } from './worker-session';

/** Read once: an enum member read through the generated module's exports is a getter call per read. */
const ONLINE = WorkerState.ONLINE;
const PENDING = TaskState.PENDING;

/** Placements proposed in one log entry at most. */
export const placementsPerRoundMax = 4096;
/**
 * Rounds whose AssignAttempts entry is proposed but not yet committed, at
 * most. Letting the next round place while the previous one commits means
 * a credit that comes back during a commit is used in the next log write,
 * not the one after; the bound keeps a slow disk from queueing unbounded work.
 */
export const roundsInFlightMax = 4;

/** Scheduling policy of one coordinator. */
export interface SchedulingOptions {
  /** A queued task gains one priority level per this long; 0 disables aging. */
  agingMs: number;
  ranking: RankingPolicy;
  /** Fair-share weight per tenant; others weigh 1. */
  tenantWeights: Record<string, number>;
  plugins: SchedulerPlugin[];
}

export const defaultScheduling: SchedulingOptions = { agingMs: 60_000, ranking: defaultRanking, tenantWeights: {}, plugins: [] };

interface Proposed {
  workerId: string;
  key: AttemptKey;
  entry: QueueEntry;
  holding: Resources;
}

/**
 * Runs scheduling rounds: match ready tasks to workers with credit and room,
 * push the assignments to the workers and propose them to the log in the
 * same turn.
 *
 * An assignment reaches its worker while its AssignAttempts entry is being
 * made durable, not after: waiting for that commit was a whole log write
 * (a quarter of submit-to-start at 1,000 tasks/s). The state still changes
 * only when the entry commits, and fencing keeps recording exactly-once
 * whatever the worker does with a push the log refuses:
 *
 * - The log applied the entry and refused a placement (the task was
 *   cancelled, the worker lost or quarantined meanwhile): the task, if still
 *   pending, is queued again. If it will never run again (cancelled), its
 *   worker gets a Cancel. If it may run again it does not: its next placement
 *   carries the same attempt key, and a worker that gets that key again
 *   while it still runs the first push keeps that run, which then counts;
 *   a Cancel could arrive after the second push and end the attempt that
 *   counts. On another worker the first run's result is rejected as stale.
 * - The proposal failed (lost leadership, a broken log): whether the entry
 *   commits is unknown, so nothing is cancelled. If it commits, the push was
 *   right; if not, the task is still pending, runs again, and the pushed
 *   run's result is rejected as stale. Execution stays at-least-once, as for
 *   a lost worker.
 *
 * Until the entry commits, the worker's progress and output for the attempt
 * are accepted as its own ({@link Dispatcher.pushedTo}).
 *
 * Rounds may overlap: a round places while earlier ones are still being
 * committed. A task is still never placed twice: a round takes the tasks it
 * places out of the queue and spends credits and resources at proposal time.
 * The state machine would reject a second placement of a task that is no
 * longer pending anyway.
 */
export class Dispatcher {
  private scheduled = false;
  private stopped = false;
  private inFlight = 0;
  /** Submissions waiting for the end of the turn, to be placed together ({@link Dispatcher.submit}). */
  private submissions: { value: SubmitJob; resolve: (r: ApplyResult) => void; reject: (e: Error) => void }[] = [];
  /** Resources held by proposed, not yet committed, placements. */
  private readonly proposedUse = new Map<string, Resources>();
  /** Attempts pushed to a worker whose AssignAttempts entry has not committed yet, by task id. */
  private readonly pushed = new Map<string, { attempt: number; workerId: string }>();
  private dueTimer: NodeJS.Timeout | undefined;
  private dueAt = Infinity;
  /** Feasibility per worker object (a rejoin makes a new one) and requirement class. */
  private readonly feasibility = new WeakMap<Worker, Map<string, Refusal | null>>();
  private readonly policy: SchedulingOptions;
  /** Everything of a round's context but the time, made once. */
  private readonly contextBase: RoundContext;
  /**
   * Per session, its FreeWorker, reused round after round: a round over a
   * large idle fleet made an object, a resources value and a feasibility
   * lookup per worker, most of its cost at 2,000 workers.
   */
  private readonly views = new WeakMap<WorkerSession, FreeWorker & { feasible: Map<string, boolean> }>();
  /** Rounds run, tasks placed, and pushed assignments whose placement the log refused, for metrics. */
  rounds = 0;
  placed = 0;
  withdrawn = 0;

  constructor(
    private readonly state: CoordinatorState,
    private readonly log: ReplicatedLog,
    private readonly hub: WorkerHub,
    private readonly onError: (e: Error) => void,
    private readonly now: () => number = Date.now,
    policy: Partial<SchedulingOptions> = {},
  ) {
    this.policy = { ...defaultScheduling, ...policy };
    this.checkers = pluginCheckers(this.policy.plugins);
    this.rankers = pluginRankers(this.policy.plugins);
    const weights = this.policy.tenantWeights;
    this.contextBase = {
      nowMs: 0,
      agingMs: this.policy.agingMs,
      refusal: (req, worker, cls) => this.refusal(req, worker, cls ?? requirementClass(req)),
      preference: preferenceScore,
      rankers: this.rankers,
      ranking: this.policy.ranking,
      tenantRunning: (t) => this.state.tenantUsage(t).running,
      tenantWeight: (t) => weights[t] ?? 1,
      maxPlacements: placementsPerRoundMax,
    };
  }

  kick(): void {
    if (this.stopped || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.round());
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.dueTimer);
  }

  /** Why the worker can never run tasks with `req`: built-in checks, then plug-ins. Cached. */
  refusal(req: Requirements | undefined, worker: Worker, cls: string): Refusal | undefined {
    // Cordon, drain and state change in place: such workers are not cached
    // (they are rare, and the scheduler skips them before asking).
    if (worker.cordoned || worker.draining || worker.state !== ONLINE) return firstRefusal(req, worker, this.checkers);
    let byClass = this.feasibility.get(worker);
    if (!byClass) this.feasibility.set(worker, (byClass = new Map()));
    let r = byClass.get(cls);
    if (r === undefined) {
      r = firstRefusal(req, worker, this.checkers) ?? null;
      byClass.set(cls, r);
    }
    return r ?? undefined;
  }

  /** True while `key` is pushed to `workerId` and its assignment is still being committed. */
  pushedTo(workerId: string, key: AttemptKey): boolean {
    const p = this.pushed.get(key.taskId);
    return p !== undefined && p.attempt === key.attempt && p.workerId === workerId;
  }

  /** Plug-in checkers, guarded: a throwing one refuses with a reason instead of breaking the round. */
  private readonly checkers: FeasibilityChecker[];
  private readonly rankers: Ranker[];

  /**
   * Workers that may take work now, with what they have free. The objects
   * are reused by the next call (a round changes them in place): use them
   * before asking again.
   */
  freeWorkers(nowMs: number): FreeWorker[] {
    const out: FreeWorker[] = [];
    const now = BigInt(nowMs);
    for (const s of this.hub.sessions.values()) {
      if (!s.wantsWork) continue;
      const w = this.state.workers.get(s.workerId);
      if (!w || w.state !== ONLINE || w.cordoned || w.draining) continue;
      const allows = breakerAllows(w.breaker, now);
      if (allows === 'none') continue;
      if (allows === 'probe' && (this.state.runningCount(w.id) > 0 || this.proposedUse.has(w.id))) continue;
      let view = this.views.get(s);
      if (!view || view.worker !== w) {
        // A new session, or the worker rejoined as a new object: what it can run is asked afresh.
        view = { worker: w, slots: 0, free: emptyResources(), capacity: capacityOf(w), feasible: new Map() };
        this.views.set(s, view);
      }
      view.slots = allows === 'probe' ? 1 : s.credits;
      freeInto(view.free, view.capacity, this.state.usedOn(w.id), this.proposedUse.get(w.id));
      out.push(view);
    }
    return out;
  }

  /** A worker's room now, as `explain` reports it. */
  roomOf(w: Worker, nowMs: number): WorkerRoomNow {
    const s = this.hub.sessions.get(w.id);
    const allows = breakerAllows(w.breaker, BigInt(nowMs));
    const held = this.proposedUse.get(w.id);
    const free = held ? subtract(this.state.freeOn(w), held) : this.state.freeOn(w);
    if (allows === 'none') {
      const until = w.breaker?.probing ? 'a probe task is running' : `until ${new Date(Number(w.breaker!.untilMs)).toISOString()}`;
      return { quarantine: `quarantined (${until}): ${w.breaker?.reason ?? ''}`, slots: 0, free };
    }
    let slots = s?.wantsWork ? s.credits : 0;
    if (allows === 'probe') slots = this.state.runningCount(w.id) > 0 ? 0 : Math.min(1, slots);
    return { slots, free };
  }

  /** The context a round decides in. */
  roundContext(nowMs: number): RoundContext {
    // The functions are made once: a round for a single task is common, and
    // making four closures per round was a measurable part of its cost.
    return { ...this.contextBase, nowMs };
  }

  private round(): void {
    this.scheduled = false;
    // A round that ends kicks again, so nothing waits forever behind the bound.
    if (this.stopped || this.inFlight >= roundsInFlightMax || this.state.queue.size === 0) return;
    const nowMs = this.now();
    let placements: Proposed[];
    try {
      this.state.queue.promote(nowMs);
      const workers = this.freeWorkers(nowMs);
      const decided = workers.length === 0 ? [] : scheduleRound(this.state.queue, workers, this.roundContext(nowMs));
      placements = decided.map((p) => ({
        workerId: p.workerId,
        entry: p.entry,
        holding: p.holding,
        key: { $typeName: 'dtf.common.v1.AttemptKey' as const, taskId: p.entry.task.id, attempt: p.entry.task.attempt + 1 },
      }));
    } catch (e) {
      this.onError(e as Error);
      return;
    } finally {
      this.armDueTimer(nowMs);
    }
    this.rounds++;
    if (placements.length === 0) return;
    const byWorker = this.reserve(placements, new Map());
    this.settle(placements, this.log.propose(this.hub.command({
      case: 'assignAttempts',
      value: { $typeName: 'dtf.state.v1.AssignAttempts', placements: placements.map(placementOf) },
    })), (res) => (res.kind === 'assigned' ? res : undefined), this.onError, true);
    this.push(byWorker);
    // Credits may be left (a bounded round, or a later kick folded into this one).
    this.kick();
  }

  /**
   * Proposes a SubmitJob. When nothing else is queued and workers have room,
   * the job's tasks are placed in the same entry and pushed now, as a round
   * would place them once the job is queued: a new job's tasks then start
   * while its submission is made durable, not one log write after it. A
   * submission the log refuses (a duplicate, a full queue) refuses its
   * placements with it, and their pushes are cancelled.
   *
   * Submissions that arrive in one turn are placed together, at its end, in
   * one round over their tasks: a round per submission was most of the
   * coordinator's work for one-task jobs. They are proposed in the order
   * they came.
   */
  submit(value: SubmitJob): Promise<ApplyResult> {
    if (this.stopped) return this.log.propose(this.hub.command({ case: 'submitJob', value }));
    return new Promise((resolve, reject) => {
      if (this.submissions.length === 0) setImmediate(() => this.proposeSubmissions());
      this.submissions.push({ value, resolve, reject });
    });
  }

  /** Places what it can of the waiting submissions, then proposes each, then pushes. */
  private proposeSubmissions(): void {
    const batch = this.submissions;
    this.submissions = [];
    let placements: Proposed[] = [];
    try {
      placements = this.placeAtSubmission(batch.map((s) => s.value));
    } catch (e) {
      // A failing round places nothing here; the submissions still go in, to be placed by rounds.
      this.onError(e as Error);
    }
    const byJob = new Map<string, Proposed[]>();
    for (const p of placements) {
      const list = byJob.get(p.entry.task.jobId);
      if (list) list.push(p);
      else byJob.set(p.entry.task.jobId, [p]);
    }
    const byWorker = new Map<string, Assignment[]>();
    for (const { value, resolve, reject } of batch) {
      const placed = (value.job && byJob.get(value.job.id)) || [];
      value.placements = placed.map(placementOf);
      this.reserve(placed, byWorker);
      let res: Promise<ApplyResult>;
      try {
        res = this.log.propose(this.hub.command({ case: 'submitJob', value }));
      } catch (e) {
        res = Promise.reject(e as Error);
      }
      // The proposer hears of a failed proposal from its own promise.
      if (placed.length > 0) this.settle(placed, res, (r) => (r.kind === 'submitted' ? r.placed : undefined), () => undefined, false);
      res.then(resolve, reject);
    }
    this.push(byWorker);
  }

  /**
   * Where new jobs' tasks would go now, if nothing else waits for a worker
   * (so placing them first passes no one): one round over a queue of their
   * own, holding them as applying the submissions will queue them, so they
   * are ordered, ranked and fitted as a later round would. A job whose tasks
   * wait on others is left to the rounds, and so is every job after it.
   */
  private placeAtSubmission(values: SubmitJob[]): Proposed[] {
    if (this.stopped || this.state.queue.size > 0) return [];
    const nowMs = this.now();
    // Asked first: with no room anywhere there is nothing to build the queue for.
    const workers = this.freeWorkers(nowMs);
    if (workers.length === 0) return [];
    const entries = new Map<string, QueueEntry>();
    const queue = new ReadyIndex((id) => entries.get(id));
    let seq = 0;
    for (const value of values) {
      const job = value.job;
      const n = value.tasks.length;
      // A job left to the rounds is queued first: placing the ones after it now would pass it.
      if (!job || n === 0 || seq + n > placementsPerRoundMax || hasDependencies(value.tasks)) break;
      const tenant = job.tenant || defaultTenant;
      const predicted = value.tasks.map((t) => this.state.predictedMs(job.name, t.spec));
      for (const i of planJob(predicted.map((p) => ({ predictedMs: p, deps: [] }))).order) {
        const spec = compactSpec(value.tasks[i].spec);
        const task = newTask({ id: value.tasks[i].id, jobId: job.id, spec, state: PENDING, predictedDurationMs: Math.round(predicted[i]) });
        const entry: NewEntry = { task, seq: seq++, tenant, enqueuedMs: nowMs, priority: spec?.priority ?? 0, deadlineMs: Number(spec?.deadlineMs ?? 0n), notBeforeMs: 0 };
        queue.add(entry, nowMs); // fills in the rest of the entry
        entries.set(task.id, entry as QueueEntry);
      }
    }
    if (seq === 0) return [];
    return scheduleRound(queue, workers, this.roundContext(nowMs)).map((p) => ({
      workerId: p.workerId,
      entry: p.entry,
      holding: p.holding,
      key: { $typeName: 'dtf.common.v1.AttemptKey' as const, taskId: p.entry.task.id, attempt: 1 },
    }));
  }

  /** Spends the placements' credits and resources and marks them pushed; adds their assignments to `byWorker`. */
  private reserve(placements: Proposed[], byWorker: Map<string, Assignment[]>): Map<string, Assignment[]> {
    for (const p of placements) {
      this.hub.sessions.get(p.workerId)!.credits--;
      let held = this.proposedUse.get(p.workerId);
      if (!held) this.proposedUse.set(p.workerId, (held = emptyResources()));
      addResources(held, p.holding, 1);
      this.pushed.set(p.key.taskId, { attempt: p.key.attempt, workerId: p.workerId });
      let list = byWorker.get(p.workerId);
      if (!list) byWorker.set(p.workerId, (list = []));
      list.push({ $typeName: 'dtf.worker.v1.Assignment', key: p.key, jobId: p.entry.task.jobId, spec: p.entry.task.spec });
    }
    return byWorker;
  }

  /**
   * Pushes the assignments, after proposing them, in the same turn: a
   * worker's result can only be proposed after that entry, so it is applied
   * after the placement.
   */
  private push(byWorker: Map<string, Assignment[]>): void {
    for (const [workerId, assignments] of byWorker) {
      this.hub.sessions.get(workerId)!.send({ case: 'assign', value: { $typeName: 'dtf.worker.v1.Assign', assignments } });
    }
  }

  /**
   * Once the entry carrying `placements` is decided: counts what the log
   * accepted and withdraws what it refused (`placed` reads that from the
   * entry's result; undefined refuses them all), then gives back what the
   * proposal held. `round`: the entry is a round's, counted against
   * {@link roundsInFlightMax} until then.
   */
  private settle(placements: Proposed[], res: Promise<ApplyResult>, placed: (r: ApplyResult) => Placed | undefined, onError: (e: Error) => void, round: boolean): void {
    if (round) this.inFlight++;
    res.then(
      (r) => this.committed(placements, placed(r)),
      (e: Error) => {
        // Whether the entry commits is unknown: the tasks go back to the queue
        // (applying the entry, if it commits, takes them out again), and the
        // pushes stand.
        for (const p of placements) this.state.requeue(p.entry);
        onError(e);
      },
    ).finally(() => {
      for (const p of placements) {
        const held = this.proposedUse.get(p.workerId);
        if (held) {
          addResources(held, p.holding, -1);
          if (held.cpu <= 0 && held.memory <= 0 && [...held.devices.values()].every((n) => n <= 0)) this.proposedUse.delete(p.workerId);
        }
        if (this.pushedTo(p.workerId, p.key)) this.pushed.delete(p.key.taskId);
      }
      if (round) this.inFlight--;
      this.kick();
    });
  }

  /**
   * Wakes the dispatcher when the next retry backoff or worker quarantine
   * ends: nothing else may happen to start a round then.
   */
  private armDueTimer(nowMs: number): void {
    let due = this.state.queue.nextDueMs() ?? Infinity;
    if (this.state.queue.size > 0) {
      for (const w of this.state.workers.values()) {
        const b = w.breaker;
        if (w.state === ONLINE && b?.quarantined && !b.probing && Number(b.untilMs) > nowMs) due = Math.min(due, Number(b.untilMs));
      }
    }
    if (due <= nowMs || due >= this.dueAt) return;
    clearTimeout(this.dueTimer);
    this.dueAt = due;
    this.dueTimer = setTimeout(() => {
      this.dueAt = Infinity;
      this.kick();
    }, Math.max(0, due - this.now()));
    this.dueTimer.unref?.();
  }

  /** Counts what the log accepted and withdraws what it refused. */
  private committed(placements: Proposed[], placed: Placed | undefined): void {
    if (!placed) {
      this.withdraw(placements);
      return;
    }
    if (placed.rejected.length > 0) {
      const rejected = new Set(placed.rejected.map((k) => k.taskId));
      this.withdraw(placements.filter((p) => rejected.has(p.key.taskId)));
    }
    this.placed += placed.accepted.length;
  }

  /**
   * Handles pushed assignments whose placement the log refused: a task that
   * is still pending goes back to the queue; otherwise the pushed attempt is
   * cancelled on its worker, unless that very attempt is current there. Credits are not given
   * back here: each worker returns its own when it reports the attempt, as
   * for any finished one.
   */
  private withdraw(placements: Proposed[]): void {
    const byWorker = new Map<string, AttemptKey[]>();
    for (const p of placements) {
      const task = this.state.tasks.get(p.key.taskId)?.task;
      if (task?.state === PENDING) {
        this.state.requeue(p.entry);
        continue;
      }
      // The very attempt is current on that worker (an earlier proposal of it
      // committed after all): the push is that attempt, not one to cancel.
      if (task && task.attempt === p.key.attempt && task.workerId === p.workerId) continue;
      let keys = byWorker.get(p.workerId);
      if (!keys) byWorker.set(p.workerId, (keys = []));
      keys.push(p.key);
    }
    for (const [workerId, keys] of byWorker) {
      // graceMs 0: the worker's default grace.
      this.hub.sessions.get(workerId)?.send({ case: 'cancel', value: { $typeName: 'dtf.worker.v1.Cancel', keys, graceMs: 0 } });
    }
    this.withdrawn += placements.length;
  }
}

function placementOf(p: Proposed): Placement {
  return { $typeName: 'dtf.state.v1.Placement', key: p.key, workerId: p.workerId };
}
