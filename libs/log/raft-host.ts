/**
 * The host of a Raft node: the shell around the pure core in libs/raft. It
 * ticks the core on a timer, makes every Ready durable, sends its messages,
 * applies committed entries to the state machine in order and answers each
 * proposer once its entry is applied. It implements ReplicatedLog, so the
 * coordinator runs the same code alone (a cluster of one) or in a cluster.
 */
import { CommandSchema, type Command } from '../gen/dtf/state/v1/command_pb';
import { decodeConfChange } from '../raft/codec';
import { persistReady } from '../raft/persist-ready';
import { RaftNode, type PeerProgress, type RaftStatus, type Ready } from '../raft/raft-node';
import { SeededRng } from '../raft/rng';
import type { Storage } from '../raft/storage';
import { ConfChangeType, EntryType, type ConfChange, type Entry, type Message, type Role } from '../raft/types';
import { fastToBinary } from '../rpc/fast-binary';
import { fastFromBinary } from '../rpc/fast-from-binary';
import type { ApplyResult } from '../state/coordinator-state';
import { LogError, type ReplicatedLog } from './replicated-log';

/** Bytes one command may take in the log. */
export const commandBytesMax = 4 << 20;
/** Reads waiting for a read index at most; more are refused. */
export const readsPendingMax = 10_000;

/** What the host drives: the coordinator state plus its image for snapshots. */
export interface HostedStateMachine {
  apply(index: bigint, cmd: Command): ApplyResult;
  /** The state's image at the last applied index. */
  snapshot(): Uint8Array;
  /** Replaces the state with an image taken at `index`. */
  restore(data: Uint8Array, index: bigint): void;
}

/** Where the host's messages go; delivery is best effort (the core re-sends). */
export interface PeerTransport {
  send(messages: Message[]): void;
  close(): Promise<void>;
}

export interface RaftHostOptions {
  id: number;
  storage: Storage;
  transport: PeerTransport;
  stateMachine: HostedStateMachine;
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  /** Take a snapshot after this many entries applied since the last one. */
  snapshotEntries: number;
  /** Entries kept below a snapshot, so a slightly slow follower catches up from the log. */
  compactionKeepEntries: number;
  /** Seed of the election-timeout randomness; anything that differs per member. */
  seed: number;
  /** Called after a membership change entry is applied. */
  onConfChange?: (cc: ConfChange, index: number) => void;
  /** Called when this member's role or known leader changes. */
  onRoleChange?: (role: Role, lead: number, term: number) => void;
  /** Called once when the disk fails; the host refuses everything afterwards. */
  onFatal?: (e: Error) => void;
}

/** Refused because this member does not lead; `leader` is its best guess (0: none known). */
export class NotLeaderError extends LogError {
  override name = 'NotLeaderError';
  constructor(
    readonly leader: number,
    detail: string,
  ) {
    super(detail);
  }
}

interface Waiter {
  term: number;
  resolve: (r: ApplyResult) => void;
  reject: (e: Error) => void;
}

interface ReadWaiter {
  index: number;
  resolve: () => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A ReplicatedLog over Raft. Single-threaded like the core: every input
 * (tick, peer message, proposal, read) schedules one processing turn, which
 * drains every Ready in the order the core requires: persist (and fsync),
 * send, apply, advance.
 */
export class RaftHost implements ReplicatedLog {
  readonly node: RaftNode;
  private readonly waiters = new Map<number, Waiter>();
  private readonly confWaiters = new Map<number, Waiter>();
  private readonly readsByContext = new Map<string, ReadWaiter>();
  private readonly readsReady: ReadWaiter[] = [];
  private readCounter = 0;
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private broken: Error | undefined;
  private closed = false;
  private applied = 0;
  private snapshotIndex: number;
  private role: Role = 'follower';
  private lead = 0;
  /** Proposals refused, applied and lost, for status and tests. */
  readonly counters = { applied: 0, snapshotsTaken: 0, snapshotsInstalled: 0, lostLeadership: 0 };

  constructor(private readonly opts: RaftHostOptions) {
    const snap = opts.storage.snapshot();
    this.snapshotIndex = snap.metadata.index;
    if (snap.metadata.index > 0) {
      opts.stateMachine.restore(snap.data, BigInt(snap.metadata.index));
      this.applied = snap.metadata.index;
    }
    this.node = new RaftNode({
      id: opts.id,
      storage: opts.storage,
      rng: new SeededRng(opts.seed),
      electionTicks: opts.electionTicks,
      heartbeatTicks: opts.heartbeatTicks,
      applied: this.applied,
    });
  }

  /** Applies every entry the log holds as committed (at start: what survived a restart). */
  replay(): void {
    this.process();
  }

  /**
   * Replays the committed log into the state machine, then starts ticking.
   * A member that is the only voter elects itself at once.
   */
  start(): void {
    this.replay();
    const st = this.node.status();
    if (st.voters.length === 1 && st.voters[0] === this.opts.id) {
      this.node.campaign();
      this.process();
    }
    this.timer = setInterval(() => {
      this.node.tick();
      this.schedule();
    }, this.opts.tickMs);
  }

  /** Hands a peer's message to the core. */
  step(m: Message): void {
    if (this.closed || this.broken) return;
    if (m.to !== this.opts.id) throw new LogError(`a message for member ${m.to} reached member ${this.opts.id}; check --peers`);
    this.node.step(m);
    this.schedule();
  }

  propose(cmd: Command): Promise<ApplyResult> {
    const data = fastToBinary(CommandSchema, cmd);
    if (data.length === 0) return Promise.reject(new LogError('an empty command cannot be logged'));
    if (data.length > commandBytesMax) return Promise.reject(new LogError(`command of ${data.length} bytes exceeds the ${commandBytesMax}-byte entry limit`));
    return this.submit(this.waiters, () => this.node.propose(data));
  }

  /** Proposes a membership change; resolves once it is applied here. */
  proposeConfChange(cc: ConfChange): Promise<ApplyResult> {
    return this.submit(this.confWaiters, () => this.node.proposeConfChange(cc));
  }

  private submit(waiters: Map<number, Waiter>, propose: () => ReturnType<RaftNode['propose']>): Promise<ApplyResult> {
    if (this.broken) return Promise.reject(this.broken);
    if (this.closed) return Promise.reject(new LogError('the log is closed'));
    const r = propose();
    if (!r.ok) {
      if (r.reason === 'not-leader' || r.reason === 'transferring') {
        return Promise.reject(new NotLeaderError(r.lead, `member ${this.opts.id} is not the leader (${r.reason}); leader is ${r.lead || 'unknown'}`));
      }
      return Promise.reject(new LogError(`proposal refused: ${r.reason}`));
    }
    this.schedule();
    return new Promise((resolve, reject) => waiters.set(r.index, { term: r.term, resolve, reject }));
  }

  /**
   * Resolves once this member has applied everything committed when the
   * call was made, as confirmed by the leader (ReadIndex): a read served
   * after it is linearizable. Rejects after `timeoutMs` when no leader answers.
   */
  readBarrier(timeoutMs: number): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    if (this.readsByContext.size + this.readsReady.length >= readsPendingMax) {
      return Promise.reject(new LogError(`more than ${readsPendingMax} reads waiting; try again`));
    }
    const ctx = Buffer.alloc(12);
    ctx.writeUInt32BE(this.opts.id, 0);
    ctx.writeDoubleBE(++this.readCounter, 4);
    const key = ctx.toString('latin1');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.readsByContext.delete(key);
        const i = this.readsReady.indexOf(w);
        if (i >= 0) this.readsReady.splice(i, 1);
        reject(new NotLeaderError(this.lead, `no leader confirmed a read index within ${timeoutMs} ms (member ${this.opts.id}, leader ${this.lead || 'unknown'})`));
      }, timeoutMs);
      const w: ReadWaiter = { index: 0, resolve, reject, timer };
      this.readsByContext.set(key, w);
      this.node.readIndex(new Uint8Array(ctx));
      this.schedule();
    });
  }

  /** Asks the leader (this member) to hand over to `target`. */
  transferLeadership(target: number): void {
    this.node.transferLeadership(target);
    this.schedule();
  }

  appliedIndex(): bigint {
    return BigInt(this.applied);
  }

  status(): RaftStatus & { snapshotIndex: number; progress: PeerProgress[] } {
    return { ...this.node.status(), snapshotIndex: this.snapshotIndex, progress: this.node.progressStatus() };
  }

  get isLeader(): boolean {
    return this.role === 'leader';
  }

  get leader(): number {
    return this.lead;
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.process();
    });
  }

  /** Drains every Ready: persist, send, apply, advance. */
  private process(): void {
    if (this.broken || this.closed) return;
    try {
      while (this.node.hasReady()) {
        const rd = this.node.ready();
        persistReady(this.opts.storage, rd);
        this.opts.transport.send(rd.messages);
        if (rd.softState) this.roleChanged(rd.softState.role, rd.softState.lead);
        if (rd.snapshot) this.installSnapshot(rd);
        for (const e of rd.committedEntries) this.applyEntry(e);
        for (const rs of rd.readStates) this.readIndexed(rs.context, rs.index);
        this.node.advance(rd);
      }
      this.serveReads();
      this.maybeSnapshot();
    } catch (e) {
      this.fail(e as Error);
    }
  }

  private roleChanged(role: Role, lead: number): void {
    const wasLeader = this.role === 'leader';
    this.role = role;
    this.lead = lead;
    if (wasLeader && role !== 'leader') {
      // Entries proposed here may still commit under the next leader, or be
      // overwritten: the outcome is unknown, so the proposer must retry
      // (submissions carry an idempotency key; results are fenced).
      this.counters.lostLeadership++;
      const err = new NotLeaderError(lead, `member ${this.opts.id} lost leadership before the entry was applied; outcome unknown, retry (leader is now ${lead || 'unknown'})`);
      for (const map of [this.waiters, this.confWaiters]) {
        for (const w of map.values()) w.reject(err);
        map.clear();
      }
    }
    this.opts.onRoleChange?.(role, lead, this.node.status().term);
  }

  private installSnapshot(rd: Ready): void {
    const snap = rd.snapshot!;
    this.opts.stateMachine.restore(snap.data, BigInt(snap.metadata.index));
    this.applied = snap.metadata.index;
    this.snapshotIndex = snap.metadata.index;
    this.counters.snapshotsInstalled++;
    const err = new LogError(`entries up to ${snap.metadata.index} were replaced by the leader's snapshot; outcome unknown, retry`);
    for (const map of [this.waiters, this.confWaiters]) {
      for (const [index, w] of map) {
        if (index <= snap.metadata.index) {
          w.reject(err);
          map.delete(index);
        }
      }
    }
  }

  private applyEntry(e: Entry): void {
    if (e.index <= this.applied) return;
    this.applied = e.index;
    this.counters.applied++;
    let result: ApplyResult = { kind: 'ok' };
    if (e.type === EntryType.NORMAL && e.data.length > 0) {
      let cmd: Command | undefined;
      try {
        cmd = fastFromBinary(CommandSchema, e.data);
      } catch (err) {
        // Every member skips the same bad entry, so replicas still agree.
        result = { kind: 'error', message: `entry ${e.index} is not a command: ${(err as Error).message}` };
      }
      if (cmd) result = this.opts.stateMachine.apply(BigInt(e.index), cmd);
    } else if (e.type === EntryType.CONF_CHANGE) {
      this.opts.onConfChange?.(decodeConfChange(e.data), e.index);
    }
    const map = e.type === EntryType.CONF_CHANGE ? this.confWaiters : this.waiters;
    const w = map.get(e.index);
    if (!w) return;
    map.delete(e.index);
    if (w.term === e.term) w.resolve(result);
    else w.reject(new NotLeaderError(this.lead, `entry ${e.index} was overwritten by term ${e.term}'s leader; the proposal was lost, retry`));
  }

  private readIndexed(context: Uint8Array, index: number): void {
    const key = Buffer.from(context).toString('latin1');
    const w = this.readsByContext.get(key);
    if (!w) return;
    this.readsByContext.delete(key);
    w.index = index;
    this.readsReady.push(w);
  }

  private serveReads(): void {
    for (let i = 0; i < this.readsReady.length; ) {
      const w = this.readsReady[i];
      if (w.index > this.applied) {
        i++;
        continue;
      }
      this.readsReady.splice(i, 1);
      clearTimeout(w.timer);
      w.resolve();
    }
  }

  private maybeSnapshot(): void {
    if (this.applied - this.snapshotIndex < this.opts.snapshotEntries) return;
    const storage = this.opts.storage;
    storage.createSnapshot(this.applied, { voters: this.node.status().voters }, this.opts.stateMachine.snapshot());
    this.snapshotIndex = this.applied;
    this.counters.snapshotsTaken++;
    const upTo = this.applied - this.opts.compactionKeepEntries;
    if (upTo >= storage.firstIndex()) storage.compact(upTo);
  }

  private fail(e: Error): void {
    this.broken = new LogError(`raft member ${this.opts.id} stopped: ${e.message}`);
    for (const map of [this.waiters, this.confWaiters]) {
      for (const w of map.values()) w.reject(this.broken);
      map.clear();
    }
    this.opts.onFatal?.(this.broken);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    const err = new LogError('the log is closed');
    for (const map of [this.waiters, this.confWaiters]) {
      for (const w of map.values()) w.reject(err);
      map.clear();
    }
    for (const w of [...this.readsByContext.values(), ...this.readsReady]) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.readsByContext.clear();
    this.readsReady.length = 0;
    await this.opts.transport.close();
  }
}

/** A conf change that adds `id` at `address`. */
export function addMember(id: number, address: string): ConfChange {
  return { type: ConfChangeType.ADD_VOTER, nodeId: id, context: new TextEncoder().encode(address) };
}
