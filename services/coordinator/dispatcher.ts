import { WorkerState, type AttemptKey, type Task } from '../../libs/gen/dtf/common/v1/common_pb';
import type { Assignment } from '../../libs/gen/dtf/worker/v1/worker_service_pb';
import type { ReplicatedLog } from '../../libs/log/replicated-log';
import { placeTasks, type Candidate } from '../../libs/scheduling/place-tasks';
import type { ApplyResult, CoordinatorState } from '../../libs/state/coordinator-state';
import type { WorkerHub } from './worker-hub';

/** Placements proposed in one log entry at most. */
export const placementsPerRoundMax = 4096;
/**
 * Rounds whose AssignAttempts entry is proposed but not yet committed, at
 * most. Letting the next round place while the previous one commits means
 * a credit that comes back during a commit is used in the next log write,
 * not the one after; the bound keeps a slow disk from queueing unbounded work.
 */
export const roundsInFlightMax = 4;

interface Proposed {
  workerId: string;
  key: AttemptKey;
}

/**
 * Runs scheduling rounds: match pending tasks to workers with credit, commit
 * the decisions through the log, then push the accepted assignments.
 *
 * Rounds may overlap: a round places while earlier ones are still being
 * committed. A task is still never placed twice, because a round skips the
 * tasks that earlier, uncommitted rounds proposed, and spends credits at
 * proposal time; and the state machine would reject a second placement of a
 * task that is no longer pending anyway.
 */
export class Dispatcher {
  private scheduled = false;
  private stopped = false;
  /** Tasks in proposed, not yet committed, placements. */
  private readonly proposed = new Set<string>();
  private inFlight = 0;
  /** Rounds run and tasks placed, for metrics. */
  rounds = 0;
  placed = 0;

  constructor(
    private readonly state: CoordinatorState,
    private readonly log: ReplicatedLog,
    private readonly hub: WorkerHub,
    private readonly onError: (e: Error) => void,
  ) {}

  kick(): void {
    if (this.stopped || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.round());
  }

  stop(): void {
    this.stopped = true;
  }

  private candidates(): Candidate[] {
    const out: Candidate[] = [];
    for (const s of this.hub.sessions.values()) {
      const w = this.state.workers.get(s.workerId);
      if (!s.closed && s.credits > 0 && w && w.state === WorkerState.ONLINE && !w.cordoned && !w.draining) {
        out.push({ worker: w, credits: s.credits });
      }
    }
    return out;
  }

  /** Pending tasks in queue order, less those an uncommitted round already placed. */
  private *placeable(): IterableIterator<Task> {
    for (const t of this.state.pending.inOrder()) if (!this.proposed.has(t.id)) yield t;
  }

  private round(): void {
    this.scheduled = false;
    // A round that ends kicks again, so nothing waits forever behind the bound.
    if (this.stopped || this.inFlight >= roundsInFlightMax || this.state.pending.size === 0) return;
    let placements: Proposed[];
    try {
      const candidates = this.candidates();
      if (candidates.length === 0) return;
      placements = placeTasks(this.placeable(), candidates).slice(0, placementsPerRoundMax).map((p) => ({
        workerId: p.workerId,
        key: { $typeName: 'dtf.common.v1.AttemptKey' as const, taskId: p.task.id, attempt: p.task.attempt + 1 },
      }));
    } catch (e) {
      this.onError(e as Error);
      return;
    }
    this.rounds++;
    if (placements.length === 0) return;
    for (const p of placements) {
      this.hub.sessions.get(p.workerId)!.credits--;
      this.proposed.add(p.key.taskId);
    }
    this.inFlight++;
    this.log.propose(this.hub.command({
      case: 'assignAttempts',
      value: { $typeName: 'dtf.state.v1.AssignAttempts', placements: placements.map((p) => ({ $typeName: 'dtf.state.v1.Placement', ...p })) },
    })).then(
      (res) => this.committed(placements, res),
      (e: Error) => this.onError(e),
    ).finally(() => {
      for (const p of placements) this.proposed.delete(p.key.taskId);
      this.inFlight--;
      this.kick();
    });
    // Credits may be left (a bounded round, or a later kick folded into this one).
    this.kick();
  }

  /** Pushes what was accepted and gives back the credits of what was not. */
  private committed(placements: Proposed[], res: ApplyResult): void {
    if (res.kind !== 'assigned') return;
    const byWorker = new Map<string, Assignment[]>();
    for (const a of res.accepted) {
      let list = byWorker.get(a.workerId);
      if (!list) byWorker.set(a.workerId, (list = []));
      list.push({ $typeName: 'dtf.worker.v1.Assignment', key: a.key, jobId: a.task.jobId, spec: a.task.spec });
    }
    for (const [workerId, assignments] of byWorker) {
      this.hub.sessions.get(workerId)?.send({ case: 'assign', value: { $typeName: 'dtf.worker.v1.Assign', assignments } });
    }
    if (res.rejected.length > 0) {
      const workerOf = new Map(placements.map((p) => [p.key.taskId, p.workerId]));
      for (const key of res.rejected) {
        const workerId = workerOf.get(key.taskId);
        const s = workerId === undefined ? undefined : this.hub.sessions.get(workerId);
        if (s) s.credits++;
      }
    }
    this.placed += res.accepted.length;
  }
}
