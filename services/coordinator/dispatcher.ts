import { WorkerState, type AttemptKey } from '../../libs/gen/dtf/common/v1/common_pb';
import type { Assignment } from '../../libs/gen/dtf/worker/v1/worker_service_pb';
import type { ReplicatedLog } from '../../libs/log/replicated-log';
import { placeTasks, type Candidate } from '../../libs/scheduling/place-tasks';
import type { CoordinatorState } from '../../libs/state/coordinator-state';
import type { WorkerHub } from './worker-hub';

/** Placements proposed in one log entry at most. */
export const placementsPerRoundMax = 4096;

/**
 * Runs scheduling rounds: match pending tasks to workers with credit, commit
 * the decisions through the log, then push the accepted assignments. Rounds
 * never overlap, so a task is never placed twice; a kick during a round
 * schedules one more.
 */
export class Dispatcher {
  private scheduled = false;
  private running = false;
  private again = false;
  private stopped = false;
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
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => void this.round());
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

  private async round(): Promise<void> {
    this.scheduled = false;
    if (this.state.pending.size === 0) return;
    this.running = true;
    this.again = false;
    let placedNow = 0;
    try {
      const placements = placeTasks(this.state.pending.inOrder(), this.candidates()).slice(0, placementsPerRoundMax);
      if (placements.length > 0) {
        placedNow = await this.commit(placements.map((p) => ({ workerId: p.workerId, key: { $typeName: 'dtf.common.v1.AttemptKey' as const, taskId: p.task.id, attempt: p.task.attempt + 1 } })));
      }
    } catch (e) {
      this.onError(e as Error);
    } finally {
      this.running = false;
      this.rounds++;
    }
    if (this.again || placedNow > 0) this.kick();
  }

  private async commit(placements: { workerId: string; key: AttemptKey }[]): Promise<number> {
    for (const p of placements) this.hub.sessions.get(p.workerId)!.credits--;
    const res = await this.log.propose(this.hub.command({
      case: 'assignAttempts',
      value: { $typeName: 'dtf.state.v1.AssignAttempts', placements: placements.map((p) => ({ $typeName: 'dtf.state.v1.Placement', ...p })) },
    }));
    if (res.kind !== 'assigned') return 0;
    const byWorker = new Map<string, Assignment[]>();
    for (const a of res.accepted) {
      const list = byWorker.get(a.workerId) ?? [];
      list.push({ $typeName: 'dtf.worker.v1.Assignment', key: a.key, jobId: a.task.jobId, spec: a.task.spec });
      byWorker.set(a.workerId, list);
    }
    for (const [workerId, assignments] of byWorker) {
      this.hub.sessions.get(workerId)?.send({ case: 'assign', value: { $typeName: 'dtf.worker.v1.Assign', assignments } });
    }
    for (const key of res.rejected) {
      const p = placements.find((x) => x.key.taskId === key.taskId);
      const s = p && this.hub.sessions.get(p.workerId);
      if (s) s.credits++;
    }
    this.placed += res.accepted.length;
    return res.accepted.length;
  }
}
