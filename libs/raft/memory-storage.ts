/**
 * Storage held in memory: for tests, the simulator (which wraps it in a disk
 * that loses unsynced writes) and single-process experiments.
 */
import { CompactedError, limitBytes, UnavailableError, type InitialState, type Storage } from './storage';
import { emptySnapshot, EntryType, type ConfState, type Entry, type HardState, type Snapshot } from './types';

/** In-memory Storage; `entries[0]` stands for the snapshot (index and term only). */
export class MemoryStorage implements Storage {
  private hardState: HardState = { term: 0, vote: 0, commit: 0 };
  private snap: Snapshot = emptySnapshot();
  private ents: Entry[] = [{ term: 0, index: 0, type: EntryType.NORMAL, data: new Uint8Array(0) }];

  initialState(): InitialState {
    return { hardState: { ...this.hardState }, confState: { voters: [...this.snap.metadata.confState.voters] } };
  }

  entries(lo: number, hi: number, bytesMax: number): Entry[] {
    const offset = this.ents[0].index;
    if (lo <= offset) throw new CompactedError(lo, offset + 1);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1, this.lastIndex());
    return limitBytes(this.ents.slice(lo - offset, hi - offset), bytesMax);
  }

  term(index: number): number {
    const offset = this.ents[0].index;
    if (index < offset) throw new CompactedError(index, offset + 1);
    if (index - offset >= this.ents.length) throw new UnavailableError(index, this.lastIndex());
    return this.ents[index - offset].term;
  }

  firstIndex(): number {
    return this.ents[0].index + 1;
  }

  lastIndex(): number {
    return this.ents[0].index + this.ents.length - 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[entries.length - 1].index;
    if (last < first) return; // Everything given is already compacted away.
    const from = entries[0].index < first ? entries.slice(first - entries[0].index) : entries;
    const offset = from[0].index - this.ents[0].index;
    if (offset > this.ents.length) {
      throw new Error(`raft memory storage: append at ${from[0].index} leaves a gap after ${this.lastIndex()}`);
    }
    this.ents.length = offset;
    for (const e of from) this.ents.push(e);
  }

  setHardState(hardState: HardState): void {
    this.hardState = { ...hardState };
  }

  applySnapshot(snapshot: Snapshot): void {
    const { index, term } = snapshot.metadata;
    if (index <= this.snap.metadata.index) return;
    this.snap = snapshot;
    this.ents = [{ term, index, type: EntryType.NORMAL, data: new Uint8Array(0) }];
  }

  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) return this.snap;
    if (index > this.lastIndex()) throw new UnavailableError(index, this.lastIndex());
    this.snap = { metadata: { index, term: this.term(index), confState: { voters: [...confState.voters] } }, data };
    return this.snap;
  }

  compact(index: number): void {
    const offset = this.ents[0].index;
    if (index <= offset) return;
    if (index > this.lastIndex()) throw new UnavailableError(index, this.lastIndex());
    const kept = this.ents.slice(index - offset);
    kept[0] = { term: kept[0].term, index, type: EntryType.NORMAL, data: new Uint8Array(0) };
    this.ents = kept;
  }

  sync(): void {
    // Memory is as durable as it gets.
  }

  /** A deep-enough copy: entries are immutable once written, so sharing them is safe. */
  clone(): MemoryStorage {
    const c = new MemoryStorage();
    c.hardState = { ...this.hardState };
    c.snap = this.snap;
    c.ents = this.ents.slice();
    return c;
  }
}
