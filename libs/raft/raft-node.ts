/**
 * RaftNode: the pure Raft core that a host drives. It is not thread-safe
 * and owns no timers, sockets or files: the host calls tick(), step(),
 * propose() and friends, then takes a Ready (what to persist, send and
 * apply), carries it out in that order, and calls advance(). See README.md.
 */
import { resolveConfig, type RaftConfig, type ResolvedRaftConfig } from './config';
import { applyConfChange, confEntriesIn, proposeConfChange } from './membership';
import { Progress, type ProgressState } from './progress';
import { committedIndex } from './quorum';
import { RaftLog } from './raft-log';
import { ReadOnly } from './read-index';
import { bcastAppend } from './replication';
import { stepMessage, tickNode } from './step';
import {
  EntryType,
  MessageType,
  newMessage,
  noNode,
  type ConfChange,
  type Entry,
  type HardState,
  type Message,
  type ReadState,
  type Role,
  type Snapshot,
} from './types';
import type { IncomingSnapshot } from './snapshot-transfer';
import { requestReadIndex } from './read-index';
import { decodeConfChange } from './codec';
import { startElection } from './election';

/** What the host must do next, in order: persist, send, apply, then advance(). */
export interface Ready {
  /** Set when leader or role changed since the last Ready. */
  softState: { lead: number; role: Role } | undefined;
  /** Set when term, vote or commit changed: persist before sending. */
  hardState: HardState | undefined;
  /** Entries to append to storage before sending. */
  entries: Entry[];
  /** A snapshot from the leader to install into storage and the state machine. */
  snapshot: Snapshot | undefined;
  /** Committed entries to apply to the state machine, in order. */
  committedEntries: Entry[];
  /** Messages to send once the writes above are durable. */
  messages: Message[];
  /** ReadIndex answers: serve each read once `index` is applied. */
  readStates: ReadState[];
}

/** Why a proposal was refused. */
export type ProposeRefusal = 'not-leader' | 'transferring' | 'too-many-uncommitted' | 'conf-change-pending' | 'no-op';

/** The outcome of a proposal: where it sits in the log, or why it was refused. */
export type ProposeResult = { ok: true; index: number; term: number } | { ok: false; reason: ProposeRefusal; lead: number };

/** A summary for logs, metrics and tests. */
export interface RaftStatus {
  id: number;
  role: Role;
  term: number;
  vote: number;
  lead: number;
  commit: number;
  applied: number;
  lastIndex: number;
  voters: number[];
}

/** One voter's replication as the leader sees it. */
export interface PeerProgress {
  id: number;
  /** Highest index known to be stored on the peer. */
  match: number;
  next: number;
  state: ProgressState;
  /** Heard from within the current CheckQuorum window. */
  recentActive: boolean;
}

/** The Raft state machine of one node. All fields are internal to libs/raft. */
export class RaftNode {
  readonly id: number;
  /** @internal */ readonly cfg: ResolvedRaftConfig;
  /** @internal */ readonly log: RaftLog;
  /** @internal */ term = 0;
  /** @internal */ vote = noNode;
  /** @internal */ lead = noNode;
  /** @internal */ role: Role = 'follower';
  /** @internal */ voters = new Set<number>();
  /** @internal */ progress = new Map<number, Progress>();
  /** @internal */ votes = new Map<number, boolean>();
  /** @internal */ msgs: Message[] = [];
  /** @internal */ readStates: ReadState[] = [];
  /** @internal */ electionElapsed = 0;
  /** @internal */ heartbeatElapsed = 0;
  /** @internal Ticks since the node started: the clock of the lease-read lease. */
  ticks = 0;
  /** @internal */ randomizedElectionTimeout = 0;
  /** @internal */ leadTransferee = noNode;
  /** @internal */ pendingConfIndex = 0;
  /** @internal */ confApplied = 0;
  /** @internal */ readOnly: ReadOnly;
  /** @internal */ incomingSnapshot: IncomingSnapshot | undefined = undefined;
  /** @internal Appends to send at the next ready(), so proposals batch. */
  broadcastPending = false;
  private prevHardState: HardState;
  private prevSoft: { lead: number; role: Role } = { lead: noNode, role: 'follower' };

  constructor(config: RaftConfig) {
    this.cfg = resolveConfig(config);
    this.id = this.cfg.id;
    this.log = new RaftLog(this.cfg.storage);
    this.readOnly = new ReadOnly(this.cfg.readIndexPendingMax);
    const { hardState, confState } = this.cfg.storage.initialState();
    for (const v of confState.voters) this.voters.add(v);
    this.confApplied = this.log.firstIndex() - 1;
    if (hardState.commit > this.log.lastIndex()) {
      throw new Error(`raft: hard state commit ${hardState.commit} is beyond the stored log (last ${this.log.lastIndex()})`);
    }
    this.log.committed = Math.max(this.log.committed, hardState.commit);
    if (this.cfg.applied !== undefined) this.log.appliedTo(Math.max(this.cfg.applied, this.log.applied));
    // Membership is what the applied log says; replay committed changes now so
    // that a restarted node knows its peers before its first tick.
    for (const cc of confEntriesIn(this.log, this.confApplied + 1, this.log.committed)) applyConfChange(this, cc, true);
    this.confApplied = this.log.committed;
    this.becomeFollower(hardState.term, noNode);
    this.vote = hardState.vote;
    this.prevHardState = { ...hardState };
  }

  // ---- inputs -------------------------------------------------------------

  /** Advances logical time by one tick (elections, heartbeats, CheckQuorum). */
  tick(): void {
    tickNode(this);
  }

  /** Handles a message from a peer; messages for other nodes are ignored. */
  step(m: Message): void {
    if (m.to !== this.id) return;
    stepMessage(this, m);
  }

  /** Appends `data` to the log if this node leads; followers refuse (the host forwards). */
  propose(data: Uint8Array): ProposeResult {
    return this.appendProposal(EntryType.NORMAL, data);
  }

  /** Proposes a single-server membership change; only one may be in flight. */
  proposeConfChange(cc: ConfChange): ProposeResult {
    return proposeConfChange(this, cc);
  }

  /** Asks this leader to hand leadership to `target` (via TimeoutNow). */
  transferLeadership(target: number): void {
    if (this.role !== 'leader' || target === this.id || !this.voters.has(target)) return;
    if (this.leadTransferee === target) return;
    this.leadTransferee = target;
    this.electionElapsed = 0; // The transfer is abandoned after one election timeout.
    const pr = this.progress.get(target);
    if (pr && pr.match === this.log.lastIndex()) this.sendTimeoutNow(target);
    else this.broadcastPending = true;
  }

  /** Starts a linearizable read; its ReadState comes back in a later Ready. */
  readIndex(context: Uint8Array): void {
    requestReadIndex(this, this.id, context);
  }

  /** Starts an election now, as if the election timeout had passed. */
  campaign(): void {
    if (this.role !== 'leader' && this.promotable()) startElection(this);
  }

  // ---- outputs ------------------------------------------------------------

  hasReady(): boolean {
    if (this.broadcastPending && this.role === 'leader') return true;
    return (
      this.msgs.length > 0 ||
      this.readStates.length > 0 ||
      this.log.unstable.length > 0 ||
      this.log.unstableSnapshot !== undefined ||
      this.log.hasNextCommittedEntries() ||
      this.hardStateChanged() ||
      this.prevSoft.lead !== this.lead ||
      this.prevSoft.role !== this.role
    );
  }

  /** Collects the work for the host. Call advance(ready) before the next ready(). */
  ready(): Ready {
    if (this.broadcastPending && this.role === 'leader') bcastAppend(this);
    this.broadcastPending = false;
    const soft = this.prevSoft.lead !== this.lead || this.prevSoft.role !== this.role;
    return {
      softState: soft ? { lead: this.lead, role: this.role } : undefined,
      hardState: this.hardStateChanged() ? this.hardState() : undefined,
      entries: this.log.unstable.slice(),
      snapshot: this.log.unstableSnapshot,
      committedEntries: this.log.nextCommittedEntries(this.cfg.committedEntriesPerReadyBytesMax),
      messages: this.msgs.slice(),
      readStates: this.readStates.slice(),
    };
  }

  /** Tells the core the host has carried out `rd`. */
  advance(rd: Ready): void {
    if (rd.hardState) this.prevHardState = rd.hardState;
    if (rd.softState) this.prevSoft = rd.softState;
    if (rd.snapshot) {
      this.log.stableSnapTo(rd.snapshot.metadata.index);
      if (rd.snapshot.metadata.index > this.log.applied) this.log.applied = rd.snapshot.metadata.index;
    }
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1];
      this.log.stableTo(last.index, last.term);
    }
    this.msgs.splice(0, rd.messages.length);
    this.readStates.splice(0, rd.readStates.length);
    if (rd.committedEntries.length > 0) {
      this.log.appliedTo(rd.committedEntries[rd.committedEntries.length - 1].index);
      for (const e of rd.committedEntries) {
        if (e.type !== EntryType.CONF_CHANGE || e.index <= this.confApplied) continue;
        this.confApplied = e.index;
        applyConfChange(this, decodeConfChange(e.data), false);
      }
    }
    if (this.role === 'leader') {
      // The leader counts its own entries only once they are durable.
      this.progress.get(this.id)?.maybeUpdate(this.log.stableLastIndex());
      if (this.maybeCommit()) this.broadcastPending = true;
    }
  }

  status(): RaftStatus {
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      vote: this.vote,
      lead: this.lead,
      commit: this.log.committed,
      applied: this.log.applied,
      lastIndex: this.log.lastIndex(),
      voters: [...this.voters].sort((a, b) => a - b),
    };
  }

  /** The leader's view of each voter's replication; empty unless this node leads. */
  progressStatus(): PeerProgress[] {
    if (this.role !== 'leader') return [];
    return [...this.progress].map(([id, pr]) => ({ id, match: pr.match, next: pr.next, state: pr.state, recentActive: pr.recentActive }));
  }

  // ---- role changes and shared helpers (internal) ---------------------------

  /** @internal */
  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  private hardStateChanged(): boolean {
    const p = this.prevHardState;
    return p.term !== this.term || p.vote !== this.vote || p.commit !== this.log.committed;
  }

  /** @internal True when this node may campaign: it is a voter. */
  promotable(): boolean {
    return this.voters.has(this.id);
  }

  /** @internal */
  send(m: Partial<Message> & Pick<Message, 'type' | 'to'>): void {
    this.msgs.push(newMessage({ from: this.id, term: this.term, ...m }));
  }

  /** @internal */
  reset(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = noNode;
    }
    this.lead = noNode;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.cfg.electionTicks + this.cfg.rng.nextInt(this.cfg.electionTicks);
    this.leadTransferee = noNode;
    this.votes.clear();
    this.readOnly.clear();
    this.progress.clear();
    for (const id of this.voters) this.addProgress(id);
  }

  /** @internal */
  addProgress(id: number): void {
    const pr = new Progress(this.log.lastIndex() + 1, this.cfg.inflightMessagesMax);
    if (id === this.id) pr.match = this.log.stableLastIndex();
    this.progress.set(id, pr);
  }

  /** @internal */
  becomeFollower(term: number, lead: number): void {
    this.reset(term);
    this.role = 'follower';
    this.lead = lead;
  }

  /** @internal */
  becomePreCandidate(): void {
    // PreVote asks "would you vote for me?" without bumping the term, so a
    // node cut off from the cluster cannot disrupt it when it comes back.
    this.votes.clear();
    this.role = 'pre-candidate';
    this.lead = noNode;
  }

  /** @internal */
  becomeCandidate(): void {
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  /** @internal */
  becomeLeader(): void {
    this.reset(this.term);
    this.role = 'leader';
    this.lead = this.id;
    for (const pr of this.progress.values()) pr.recentActive = true;
    // Entries of earlier terms may hide an unapplied membership change, so no
    // new change until everything up to here has been applied.
    this.pendingConfIndex = this.log.lastIndex();
    // An entry of the new term lets earlier entries commit (the commit rule).
    this.appendEntries([{ term: this.term, index: 0, type: EntryType.NORMAL, data: new Uint8Array(0) }]);
  }

  /** @internal Appends to the leader's own log and schedules replication. */
  appendEntries(entries: Entry[]): void {
    let index = this.log.lastIndex();
    for (const e of entries) {
      e.term = this.term;
      e.index = ++index;
    }
    this.log.append(entries);
    this.broadcastPending = true;
  }

  /** @internal Advances commit to what a majority holds, for entries of this term only. */
  maybeCommit(): boolean {
    const index = committedIndex(this.voters, (id) => this.progress.get(id)?.match ?? 0);
    if (index <= this.log.committed || this.log.term(index) !== this.term) return false;
    this.log.commitTo(index);
    return true;
  }

  /** @internal */
  appendProposal(type: EntryType, data: Uint8Array): ProposeResult {
    if (this.role !== 'leader') return { ok: false, reason: 'not-leader', lead: this.lead };
    if (this.leadTransferee !== noNode) return { ok: false, reason: 'transferring', lead: this.lead };
    if (this.log.lastIndex() - this.log.committed >= this.cfg.uncommittedEntriesMax) {
      return { ok: false, reason: 'too-many-uncommitted', lead: this.lead };
    }
    const e: Entry = { term: this.term, index: 0, type, data };
    this.appendEntries([e]);
    return { ok: true, index: e.index, term: e.term };
  }

  /** @internal */
  sendTimeoutNow(to: number): void {
    this.send({ type: MessageType.TIMEOUT_NOW, to });
  }
}
