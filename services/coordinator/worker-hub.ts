import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import {
  AttemptOutcome,
  AttemptResultSchema,
  WorkerSchema,
  WorkerState,
  type AttemptKey,
  type AttemptResult,
  type Hardware,
  type Load,
} from '../../libs/gen/dtf/common/v1/common_pb';
import type { Command } from '../../libs/gen/dtf/state/v1/command_pb';
import type { ConnectResponse } from '../../libs/gen/dtf/worker/v1/worker_service_pb';
import type { ReplicatedLog } from '../../libs/log/replicated-log';
import type { AsyncQueue } from '../../libs/rpc/async-queue';
import type { CoordinatorState } from '../../libs/state/coordinator-state';
import { FinishBatcher } from './finish-batcher';
import { WorkerSession } from './worker-session';

/** Liveness settings: how often workers beat and when silence means lost. */
export interface LivenessOptions {
  heartbeatIntervalMs: number;
  workerLeaseMs: number;
}

export const defaultLiveness: LivenessOptions = { heartbeatIntervalMs: 2000, workerLeaseMs: 10_000 };
/** Slots one worker may offer at most. */
export const workerSlotsMax = 1024;
/** Results one message may carry at most. */
export const resultsPerMessageMax = 1000;

/** What a worker says about itself when it (re)connects. */
export interface WorkerIntro {
  workerId: string;
  name: string;
  hardware?: Hardware;
  labels: Record<string, string>;
  slots: number;
  freeSlots: number;
  /** Of `slots`, the worker's prefetch queue (0 when absent). */
  prefetch?: number;
  running: AttemptKey[];
  httpOnly: boolean;
}

/**
 * The leader's view of connected workers. It turns worker messages into log
 * proposals (joins, results, losses) and keeps the soft state that never
 * goes through the log: credits, last contact and load.
 */
export class WorkerHub {
  readonly sessions = new Map<string, WorkerSession>();
  /** Messages dropped because they came from a superseded session. */
  supersededMessages = 0;
  /** Progress and output for attempts that are not current on the sender. */
  staleUpdates = 0;
  private readonly startedMs: number;
  private readonly finishes: FinishBatcher;
  onCapacity: () => void = () => {};
  /** True while an assignment of `key` pushed to `workerId` is still being committed (set by the dispatcher's owner). */
  pushedTo: (workerId: string, key: AttemptKey) => boolean = () => false;

  constructor(
    private readonly state: CoordinatorState,
    private readonly log: ReplicatedLog,
    private readonly now: () => number,
    readonly liveness: LivenessOptions,
  ) {
    this.startedMs = now();
    this.finishes = new FinishBatcher((results) =>
      this.log.propose(this.command({ case: 'finishAttempts', value: { $typeName: 'dtf.state.v1.FinishAttempts', results } })),
    );
  }

  /** Registers a (re)connecting worker and supersedes any older session of it. */
  async open(intro: WorkerIntro, stream: AsyncQueue<ConnectResponse> | undefined): Promise<WorkerSession> {
    validateIntro(intro);
    const res = await this.log.propose(this.command({
      case: 'workerJoined',
      value: {
        $typeName: 'dtf.state.v1.WorkerJoined',
        worker: create(WorkerSchema, {
          id: intro.workerId, name: intro.name || intro.workerId, hardware: intro.hardware, labels: intro.labels,
          slots: intro.slots, running: intro.running, httpOnly: intro.httpOnly,
        }),
      },
    }));
    if (res.kind !== 'joined') throw new ConnectError(`join failed: ${res.kind === 'error' ? res.message : res.kind}`, Code.Internal);
    this.sessions.get(intro.workerId)?.close();
    const session = new WorkerSession(intro.workerId, res.epoch, intro.slots, intro.freeSlots, this.now(), stream, intro.prefetch ?? 0);
    session.running = intro.running;
    this.sessions.set(intro.workerId, session);
    if (res.orphaned.length > 0) {
      await this.finish(undefined, res.orphaned.map((key) => create(AttemptResultSchema, {
        key, outcome: AttemptOutcome.WORKER_LOST, workerId: intro.workerId,
        error: `worker ${intro.workerId} reconnected without attempt ${key.attempt}`,
      })));
    }
    this.onCapacity();
    return session;
  }

  /** True when `session` is still the worker's current one. */
  isCurrent(session: WorkerSession): boolean {
    return this.sessions.get(session.workerId) === session && !session.closed;
  }

  /** Notes any sign of life; returns false for a superseded session. */
  touch(session: WorkerSession): boolean {
    if (!this.isCurrent(session)) {
      this.supersededMessages++;
      return false;
    }
    session.lastSeenMs = this.now();
    return true;
  }

  /**
   * True when an update (progress, output) about `key` from `session` is
   * about the attempt that worker currently runs; anything else is counted
   * and dropped, like a stale result.
   */
  acceptUpdate(session: WorkerSession, key: AttemptKey | undefined): boolean {
    if (!this.touch(session)) return false;
    const task = key ? this.state.tasks.get(key.taskId)?.task : undefined;
    if (task && key && task.attempt === key.attempt && task.workerId === session.workerId) return true;
    // Output can arrive before the assignment's entry commits: the worker has it from the push.
    if (key && this.pushedTo(session.workerId, key)) return true;
    this.staleUpdates++;
    return false;
  }

  heartbeat(session: WorkerSession, load: Load | undefined, running: AttemptKey[], draining = false): void {
    if (!this.touch(session)) return;
    session.load = load;
    session.running = running;
    // A draining worker gets nothing more, whatever credit it had left.
    if (draining) session.credits = 0;
  }

  grant(session: WorkerSession, credits: number): void {
    if (!this.touch(session)) return;
    session.credits = Math.min(session.slots, session.credits + credits);
    if (credits > 0) this.onCapacity();
  }

  /**
   * Proposes finished attempts and answers the worker only once they are
   * committed: Ack for recorded results, Reject for stale ones.
   */
  async finish(session: WorkerSession | undefined, results: AttemptResult[]): Promise<{ accepted: AttemptKey[]; rejected: AttemptKey[] }> {
    if (session && !this.touch(session)) return { accepted: [], rejected: [] };
    if (results.length > resultsPerMessageMax) {
      throw new ConnectError(`${results.length} results in one message; at most ${resultsPerMessageMax}`, Code.InvalidArgument);
    }
    if (session) for (const r of results) r.workerId = session.workerId;
    const recorded = await this.finishes.finish(results);
    const res = { accepted: [] as AttemptKey[], rejected: [] as AttemptKey[] };
    results.forEach((r, i) => {
      if (r.key) (recorded[i] ? res.accepted : res.rejected).push(r.key);
    });
    if (session && res.accepted.length) session.send({ case: 'ack', value: { $typeName: 'dtf.worker.v1.Ack', keys: res.accepted } });
    if (session && res.rejected.length) {
      session.send({ case: 'reject', value: { $typeName: 'dtf.worker.v1.Reject', keys: res.rejected, reason: 'attempt is no longer current' } });
    }
    this.onCapacity();
    return res;
  }

  /** Called when a stream ends; the worker stays a member until its lease runs out. */
  closed(session: WorkerSession): void {
    session.close();
  }

  /** Declares lost every online worker silent for longer than its lease. */
  async expireSilent(): Promise<string[]> {
    const now = this.now();
    const lost: string[] = [];
    for (const w of this.state.workers.values()) {
      if (w.state !== WorkerState.ONLINE) continue;
      const s = this.sessions.get(w.id);
      // After a restart, known workers get one full lease to reconnect.
      const last = s ? s.lastSeenMs : this.startedMs;
      if (now - last <= this.liveness.workerLeaseMs) continue;
      s?.close();
      this.sessions.delete(w.id);
      await this.log.propose(this.command({
        case: 'workerLost',
        value: { $typeName: 'dtf.state.v1.WorkerLost', workerId: w.id, reason: `silent for ${now - last} ms (lease ${this.liveness.workerLeaseMs} ms)` },
      }));
      lost.push(w.id);
    }
    if (lost.length) this.onCapacity();
    return lost;
  }

  /** Builds a log command stamped with the leader's clock (whole, not by reflective `create`: one per proposal). */
  command(kind: Command['kind']): Command {
    return { $typeName: 'dtf.state.v1.Command', timeMs: BigInt(this.now()), kind };
  }
}

function validateIntro(i: WorkerIntro): void {
  if (!i.workerId || i.workerId.length > 128 || !/^[\w.:@-]+$/.test(i.workerId)) {
    throw new ConnectError(`worker_id "${i.workerId}" is invalid: use 1-128 letters, digits, or . _ : @ -`, Code.InvalidArgument);
  }
  if (i.slots < 1 || i.slots > workerSlotsMax) {
    throw new ConnectError(`slots ${i.slots} is out of range 1..${workerSlotsMax}`, Code.InvalidArgument);
  }
  const prefetch = i.prefetch ?? 0;
  if (prefetch >= i.slots) {
    throw new ConnectError(
      `prefetch ${prefetch} must be less than slots ${i.slots}: slots counts the tasks run at once and the prefetched ones together`,
      Code.InvalidArgument,
    );
  }
}
