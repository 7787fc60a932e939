/**
 * The log as the core sees it: stable entries in Storage followed by
 * unstable ones (and perhaps an incoming snapshot) not yet handed to the host
 * for persisting. Also tracks the commit and apply indexes.
 */
import { CompactedError, limitBytes, type Storage } from './storage';
import type { Entry, Snapshot } from './types';

/** Thrown when the log is asked to do something that would break Raft's safety. */
export class RaftLogError extends Error {}

/** Storage plus the unstable tail. */
export class RaftLog {
  /** Entries from `unstableOffset` on, not yet persisted. */
  unstable: Entry[] = [];
  unstableOffset: number;
  /** A snapshot received from the leader and not yet persisted. */
  unstableSnapshot: Snapshot | undefined = undefined;
  committed: number;
  applied: number;

  constructor(readonly storage: Storage) {
    this.unstableOffset = storage.lastIndex() + 1;
    this.committed = storage.firstIndex() - 1;
    this.applied = storage.firstIndex() - 1;
  }

  firstIndex(): number {
    if (this.unstableSnapshot) return this.unstableSnapshot.metadata.index + 1;
    return this.storage.firstIndex();
  }

  lastIndex(): number {
    if (this.unstable.length > 0) return this.unstableOffset + this.unstable.length - 1;
    if (this.unstableSnapshot) return this.unstableSnapshot.metadata.index;
    return this.storage.lastIndex();
  }

  /** The index of the last entry the host has persisted. */
  stableLastIndex(): number {
    return this.unstableOffset - 1;
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  /** The term of `index`, or undefined when it is compacted or beyond the end. */
  term(index: number): number | undefined {
    const dummy = this.firstIndex() - 1;
    if (index < dummy || index > this.lastIndex()) return undefined;
    if (index >= this.unstableOffset && this.unstable.length > 0) return this.unstable[index - this.unstableOffset].term;
    if (this.unstableSnapshot && index === this.unstableSnapshot.metadata.index) return this.unstableSnapshot.metadata.term;
    try {
      return this.storage.term(index);
    } catch (e) {
      if (e instanceof CompactedError) return undefined;
      throw e;
    }
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Entries in [lo, hi) within bytesMax; throws CompactedError below the first index. */
  entries(lo: number, hi: number, bytesMax: number): Entry[] {
    if (lo < this.firstIndex()) throw new CompactedError(lo, this.firstIndex());
    hi = Math.min(hi, this.lastIndex() + 1);
    if (lo >= hi) return [];
    let out: Entry[] = [];
    if (lo < this.unstableOffset) {
      out = this.storage.entries(lo, Math.min(hi, this.unstableOffset), bytesMax);
      if (out.length < Math.min(hi, this.unstableOffset) - lo) return out;
    }
    if (hi > this.unstableOffset) {
      const from = Math.max(lo, this.unstableOffset) - this.unstableOffset;
      out = out.concat(this.unstable.slice(from, hi - this.unstableOffset));
    }
    return limitBytes(out, bytesMax);
  }

  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /**
   * The largest index at or below `index` whose term is at most `term`: the
   * first place the logs can possibly agree, used to skip a whole conflicting
   * term in one round trip instead of one entry per round trip.
   */
  findConflictByTerm(index: number, term: number): number {
    for (;;) {
      const t = this.term(index);
      if (t === undefined || t <= term || index === 0) return index;
      index--;
    }
  }

  /** Appends entries after dropping any conflicting suffix (it can't be committed). */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const after = entries[0].index;
    if (after - 1 < this.committed) {
      throw new RaftLogError(`raft log: append at ${after} would overwrite committed index ${this.committed}`);
    }
    const end = this.unstableOffset + this.unstable.length;
    if (after === end) {
      for (const e of entries) this.unstable.push(e);
    } else if (after <= this.unstableOffset) {
      // Replacing stable entries: the host's Storage.append truncates them.
      this.unstableOffset = after;
      this.unstable = entries.slice();
    } else {
      this.unstable = this.unstable.slice(0, after - this.unstableOffset).concat(entries);
    }
  }

  /**
   * The follower's side of AppendEntries: if the log has (prevIndex, prevTerm),
   * append what is new and return the index of the last new entry.
   */
  maybeAppend(prevIndex: number, prevTerm: number, committed: number, entries: Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + entries.length;
    let conflict = -1;
    for (let i = 0; i < entries.length; i++) {
      if (!this.matchTerm(entries[i].index, entries[i].term)) {
        conflict = i;
        break;
      }
    }
    if (conflict >= 0) {
      if (entries[conflict].index <= this.committed) {
        throw new RaftLogError(`raft log: entry ${entries[conflict].index} conflicts with committed ${this.committed}`);
      }
      this.append(entries.slice(conflict));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    if (index > this.lastIndex()) {
      throw new RaftLogError(`raft log: commit ${index} is beyond the last index ${this.lastIndex()}`);
    }
    this.committed = index;
  }

  appliedTo(index: number): void {
    if (index > this.committed) throw new RaftLogError(`raft log: applied ${index} > committed ${this.committed}`);
    if (index > this.applied) this.applied = index;
  }

  /** Committed entries not yet applied, within bytesMax. */
  nextCommittedEntries(bytesMax: number): Entry[] {
    const lo = Math.max(this.applied + 1, this.firstIndex());
    if (this.committed + 1 <= lo) return [];
    return this.entries(lo, this.committed + 1, bytesMax);
  }

  hasNextCommittedEntries(): boolean {
    return this.committed > Math.max(this.applied, this.firstIndex() - 1);
  }

  /** The host persisted entries up to (index, term): they leave the unstable tail. */
  stableTo(index: number, term: number): void {
    if (index < this.unstableOffset) return;
    const pos = index - this.unstableOffset;
    if (pos >= this.unstable.length || this.unstable[pos].term !== term) return;
    this.unstable = this.unstable.slice(pos + 1);
    this.unstableOffset = index + 1;
  }

  stableSnapTo(index: number): void {
    if (this.unstableSnapshot && this.unstableSnapshot.metadata.index === index) this.unstableSnapshot = undefined;
  }

  /** Replaces the whole log by a snapshot from the leader. */
  restore(snapshot: Snapshot): void {
    this.committed = snapshot.metadata.index;
    this.unstableSnapshot = snapshot;
    this.unstable = [];
    this.unstableOffset = snapshot.metadata.index + 1;
  }

  /** The latest snapshot, received or stored. */
  snapshot(): Snapshot {
    return this.unstableSnapshot ?? this.storage.snapshot();
  }
}
