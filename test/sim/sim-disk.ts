/**
 * A simulated disk: reads see every write at once, but only synced writes
 * survive a crash. Writes made since the last sync() are kept as a list of
 * operations and replayed onto the durable copy when sync() runs.
 */
import { MemoryStorage } from '../../libs/raft/memory-storage';
import type { InitialState, Storage } from '../../libs/raft/storage';
import type { ConfState, Entry, HardState, Snapshot } from '../../libs/raft/types';

type Op = (s: MemoryStorage) => void;

/** Storage whose unsynced writes a crash throws away. */
export class SimDisk implements Storage {
  private live: MemoryStorage;
  private unsynced: Op[] = [];

  constructor(private durable: MemoryStorage = new MemoryStorage()) {
    this.live = durable.clone();
  }

  /** The disk as a restarted process finds it: synced writes only. */
  afterCrash(): SimDisk {
    return new SimDisk(this.durable.clone());
  }

  private write(op: Op): void {
    op(this.live);
    this.unsynced.push(op);
  }

  initialState(): InitialState {
    return this.live.initialState();
  }
  entries(lo: number, hi: number, bytesMax: number): Entry[] {
    return this.live.entries(lo, hi, bytesMax);
  }
  term(index: number): number {
    return this.live.term(index);
  }
  firstIndex(): number {
    return this.live.firstIndex();
  }
  lastIndex(): number {
    return this.live.lastIndex();
  }
  snapshot(): Snapshot {
    return this.live.snapshot();
  }
  append(entries: Entry[]): void {
    this.write((s) => s.append(entries));
  }
  setHardState(hardState: HardState): void {
    const hs = { ...hardState };
    this.write((s) => s.setHardState(hs));
  }
  applySnapshot(snapshot: Snapshot): void {
    this.write((s) => s.applySnapshot(snapshot));
  }
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    const snap = this.live.createSnapshot(index, confState, data);
    // Snapshot files are written atomically and synced on their own; the
    // host snapshots only applied, hence already synced, entries.
    this.durable.createSnapshot(index, confState, data);
    return snap;
  }
  compact(index: number): void {
    this.write((s) => s.compact(index));
  }
  sync(): void {
    for (const op of this.unsynced) op(this.durable);
    this.unsynced = [];
  }
}
