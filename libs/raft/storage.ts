/**
 * The storage a Raft node reads its stable log from, and the host writes
 * Ready output to. Reads are synchronous because the core is: a file-backed
 * implementation keeps its index (and here, its entries) in memory.
 */
import type { ConfState, Entry, HardState, Snapshot } from './types';

/** Thrown when an index below the first retained entry is asked for. */
export class CompactedError extends Error {
  constructor(index: number, firstIndex: number) {
    super(`raft storage: index ${index} is compacted (first retained index is ${firstIndex})`);
  }
}

/** Thrown when an index beyond the last entry is asked for. */
export class UnavailableError extends Error {
  constructor(index: number, lastIndex: number) {
    super(`raft storage: index ${index} is beyond the last index ${lastIndex}`);
  }
}

/** What a node needs to restart: its hard state and the membership of its snapshot. */
export interface InitialState {
  hardState: HardState;
  confState: ConfState;
}

/** Durable Raft state: log entries, hard state and the latest snapshot. */
export interface Storage {
  initialState(): InitialState;
  /** Entries in [lo, hi), at least one, then as many as fit in bytesMax. */
  entries(lo: number, hi: number, bytesMax: number): Entry[];
  /** The term of `index`, which may be the snapshot's index; throws when out of range. */
  term(index: number): number;
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;

  /** Appends entries; an entry at an existing index replaces it and everything after. */
  append(entries: Entry[]): void;
  setHardState(hardState: HardState): void;
  /** Installs a snapshot received from the leader; drops the log it covers. */
  applySnapshot(snapshot: Snapshot): void;
  /** Records a snapshot of the applied state at `index` (taken by the host). */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot;
  /** Drops entries up to and including `index`; they must be in a snapshot. */
  compact(index: number): void;
  /** Makes every write so far durable; the host calls it before sending. */
  sync(): void;
}

/** Approximate size of an entry in a message, for batching limits. */
export function entryBytes(e: Entry): number {
  return e.data.length + 24;
}

/** Cuts `entries` after the first one to stay within `bytesMax`. */
export function limitBytes(entries: Entry[], bytesMax: number): Entry[] {
  let size = 0;
  for (let i = 0; i < entries.length; i++) {
    size += entryBytes(entries[i]);
    if (i > 0 && size > bytesMax) return entries.slice(0, i);
  }
  return entries;
}
