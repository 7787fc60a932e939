/**
 * Durable Storage on local files. Layout under `dir`:
 *
 *   wal/<seq>.wal        log segments: Entry and HardState records, appended
 *   snap/<index>.snap    snapshots: one Snapshot record each, written atomically
 *
 * Reads are served from memory (a MemoryStorage rebuilt at open), because the
 * core reads synchronously; writes are buffered and reach the disk, fsync'ed,
 * in sync(), which the host calls before sending anything. Every new segment
 * starts with the current hard state, so deleting old segments never loses it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeEntry, decodeHardState, encodeEntry, encodeHardState, encodeSnapshot } from './codec';
import { MemoryStorage } from './memory-storage';
import { encodeRecord, RecordType } from './records';
import { loadSnapshot, recoverLog, segmentName, type Segment } from './file-recovery';
import type { InitialState, Storage } from './storage';
import type { ConfState, Entry, HardState, Snapshot } from './types';

/** Start a new segment once the active one is this large. */
export const segmentBytesMaxDefault = 16 << 20;

/** The disk operations FileStorage performs, in order; crash tests stop at each. */
export type FileStep = 'write' | 'fsync' | 'rename' | 'fsync-dir' | 'unlink' | 'truncate' | 'create';

export interface FileStorageOptions {
  segmentBytesMax?: number;
  /** Called before every disk operation; crash tests kill the process here. */
  beforeStep?: (step: FileStep, file: string) => void;
}

/** Storage on files: segments with CRC32C records, atomic snapshots. */
export class FileStorage implements Storage {
  private readonly mem: MemoryStorage;
  private readonly walDir: string;
  private readonly snapDir: string;
  private segments: Segment[];
  private fd: number;
  private activeBytes: number;
  private pending: Buffer[] = [];
  private pendingLastIndex = 0;
  private readonly segmentBytesMax: number;
  private readonly beforeStep: (step: FileStep, file: string) => void;

  private constructor(dir: string, opts: FileStorageOptions) {
    this.walDir = path.join(dir, 'wal');
    this.snapDir = path.join(dir, 'snap');
    this.segmentBytesMax = opts.segmentBytesMax ?? segmentBytesMaxDefault;
    this.beforeStep = opts.beforeStep ?? (() => {});
    for (const d of [dir, this.walDir, this.snapDir]) fs.mkdirSync(d, { recursive: true });
    const snap = loadSnapshot(this.snapDir, this.beforeStep);
    const recovered = recoverLog(this.walDir, snap, this.beforeStep);
    this.mem = new MemoryStorage();
    if (snap.metadata.index > 0) this.mem.applySnapshot(snap);
    this.mem.append(recovered.entries);
    this.mem.setHardState(recovered.hardState);
    this.segments = recovered.segments;
    const last = this.segments[this.segments.length - 1];
    if (last) {
      this.fd = fs.openSync(path.join(this.walDir, segmentName(last.seq)), 'a');
      this.activeBytes = fs.fstatSync(this.fd).size;
    } else {
      this.fd = this.createSegment(1);
      this.activeBytes = 0;
    }
  }

  /** Opens (or creates) the storage in `dir`, recovering from any crash. */
  static open(dir: string, opts: FileStorageOptions = {}): FileStorage {
    return new FileStorage(dir, opts);
  }

  initialState(): InitialState {
    return this.mem.initialState();
  }
  entries(lo: number, hi: number, bytesMax: number): Entry[] {
    return this.mem.entries(lo, hi, bytesMax);
  }
  term(index: number): number {
    return this.mem.term(index);
  }
  firstIndex(): number {
    return this.mem.firstIndex();
  }
  lastIndex(): number {
    return this.mem.lastIndex();
  }
  snapshot(): Snapshot {
    return this.mem.snapshot();
  }

  append(entries: Entry[]): void {
    this.mem.append(entries);
    for (const e of entries) this.pending.push(encodeRecord(RecordType.Entry, encodeEntry(e)));
    if (entries.length > 0) this.pendingLastIndex = entries[entries.length - 1].index;
  }

  setHardState(hardState: HardState): void {
    this.mem.setHardState(hardState);
    this.pending.push(encodeRecord(RecordType.HardState, encodeHardState(hardState)));
  }

  /** Writes the snapshot file atomically now; log entries it covers are ignored from here on. */
  applySnapshot(snapshot: Snapshot): void {
    if (snapshot.metadata.index <= this.mem.snapshot().metadata.index) return;
    this.writeSnapshotFile(snapshot);
    this.mem.applySnapshot(snapshot);
  }

  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    const before = this.mem.snapshot();
    const snap = this.mem.createSnapshot(index, confState, data);
    if (snap !== before) this.writeSnapshotFile(snap);
    return snap;
  }

  /** Drops entries up to `index` and deletes segments that hold nothing newer. */
  compact(index: number): void {
    this.mem.compact(index);
    const removable = Math.min(index, this.mem.snapshot().metadata.index);
    while (this.segments.length > 1 && this.segments[0].lastIndex <= removable) {
      const file = path.join(this.walDir, segmentName(this.segments[0].seq));
      this.beforeStep('unlink', file);
      fs.unlinkSync(file);
      this.segments.shift();
    }
  }

  /** Writes buffered records and fsyncs them; rolls to a new segment when full. */
  sync(): void {
    if (this.pending.length === 0) return;
    const buf = Buffer.concat(this.pending);
    this.pending = [];
    const active = this.segments[this.segments.length - 1];
    const file = path.join(this.walDir, segmentName(active.seq));
    this.beforeStep('write', file);
    fs.writeSync(this.fd, buf);
    this.beforeStep('fsync', file);
    fs.fsyncSync(this.fd);
    this.activeBytes += buf.length;
    active.lastIndex = Math.max(active.lastIndex, this.pendingLastIndex);
    if (this.activeBytes >= this.segmentBytesMax) this.rollSegment();
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  private rollSegment(): void {
    fs.closeSync(this.fd);
    const seq = this.segments[this.segments.length - 1].seq + 1;
    this.fd = this.createSegment(seq);
    const first = encodeRecord(RecordType.HardState, encodeHardState(this.mem.initialState().hardState));
    const file = path.join(this.walDir, segmentName(seq));
    this.beforeStep('write', file);
    fs.writeSync(this.fd, first);
    this.beforeStep('fsync', file);
    fs.fsyncSync(this.fd);
    this.activeBytes = first.length;
  }

  private createSegment(seq: number): number {
    const file = path.join(this.walDir, segmentName(seq));
    this.beforeStep('create', file);
    const fd = fs.openSync(file, 'a');
    this.segments.push({ seq, lastIndex: 0 });
    fsyncDir(this.walDir, this.beforeStep);
    return fd;
  }

  /** temp file, fsync, rename, fsync of the directory; then older snapshots go. */
  private writeSnapshotFile(snap: Snapshot): void {
    const name = `${snap.metadata.index.toString(16).padStart(16, '0')}.snap`;
    const final = path.join(this.snapDir, name);
    const tmp = `${final}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    try {
      this.beforeStep('write', tmp);
      fs.writeSync(fd, encodeRecord(RecordType.Snapshot, encodeSnapshot(snap)));
      this.beforeStep('fsync', tmp);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    this.beforeStep('rename', final);
    fs.renameSync(tmp, final);
    fsyncDir(this.snapDir, this.beforeStep);
    for (const f of fs.readdirSync(this.snapDir)) {
      if (f.endsWith('.snap') && f < name) {
        this.beforeStep('unlink', f);
        fs.unlinkSync(path.join(this.snapDir, f));
      }
    }
  }
}

/** Makes a directory's entries (created, renamed files) durable. */
export function fsyncDir(dir: string, beforeStep: (step: FileStep, file: string) => void): void {
  beforeStep('fsync-dir', dir);
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export { decodeEntry, decodeHardState };
