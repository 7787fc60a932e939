/**
 * Opening FileStorage after a crash: find the newest snapshot, replay the
 * segments in order, truncate a torn tail, and refuse corruption anywhere
 * else with a message that says where and what to do.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeEntry, decodeHardState, decodeSnapshot } from './codec';
import type { FileStep } from './file-storage';
import { RecordType, scanRecords } from './records';
import { emptySnapshot, type Entry, type HardState, type Snapshot } from './types';

/** A log segment: its sequence number and the highest entry index it holds. */
export interface Segment {
  seq: number;
  lastIndex: number;
}

export const segmentName = (seq: number): string => `${seq.toString(16).padStart(16, '0')}.wal`;

/** Thrown when the files are damaged in a way that truncation must not paper over. */
export class StorageCorruptionError extends Error {}

/** The newest snapshot in `snapDir` (temp files from a crash are removed). */
export function loadSnapshot(snapDir: string, beforeStep: (step: FileStep, file: string) => void): Snapshot {
  const names = fs.readdirSync(snapDir).sort();
  for (const f of names.filter((n) => n.endsWith('.tmp'))) {
    beforeStep('unlink', f);
    fs.unlinkSync(path.join(snapDir, f)); // A snapshot whose rename never happened.
  }
  const snaps = names.filter((n) => n.endsWith('.snap'));
  if (snaps.length === 0) return emptySnapshot();
  const file = path.join(snapDir, snaps[snaps.length - 1]);
  const scan = scanRecords(fs.readFileSync(file));
  if (scan.end !== 'clean' || scan.records.length !== 1 || scan.records[0].type !== RecordType.Snapshot) {
    throw new StorageCorruptionError(
      `raft file storage: snapshot ${file} is damaged (${scan.problem || 'unexpected records'}); ` +
        'snapshots are renamed into place only when complete, so the disk is corrupt: restore this node from a peer',
    );
  }
  return decodeSnapshot(scan.records[0].payload);
}

/** Replays segments into the entries after `snap`, the last hard state, and the segment list. */
export function recoverLog(
  walDir: string,
  snap: Snapshot,
  beforeStep: (step: FileStep, file: string) => void,
): { entries: Entry[]; hardState: HardState; segments: Segment[] } {
  const names = fs.readdirSync(walDir).filter((n) => n.endsWith('.wal')).sort();
  let run: Entry[] = [];
  let hardState: HardState = { term: 0, vote: 0, commit: 0 };
  const segments: Segment[] = [];
  names.forEach((name, i) => {
    const file = path.join(walDir, name);
    const scan = scanRecords(fs.readFileSync(file));
    const isLast = i === names.length - 1;
    if (scan.end === 'corrupt' || (scan.end === 'torn' && !isLast)) {
      throw new StorageCorruptionError(
        `raft file storage: ${file} at byte ${scan.validBytes}: ${scan.problem}, with more data after it. ` +
          'This is corruption inside the log, not a torn write, so it is not truncated; ' +
          'restore this node from a peer (move its data directory away and let it rejoin)',
      );
    }
    if (scan.end === 'torn') {
      // The process died mid-write: nothing after the last whole record was
      // ever synced, so nothing acknowledged is lost by cutting it off.
      beforeStep('truncate', file);
      fs.truncateSync(file, scan.validBytes);
    }
    let lastIndex = 0;
    for (const r of scan.records) {
      if (r.type === RecordType.HardState) hardState = decodeHardState(r.payload);
      else if (r.type === RecordType.Entry) {
        const e = decodeEntry(r.payload);
        run = extendRun(run, e);
        lastIndex = Math.max(lastIndex, e.index);
      }
    }
    segments.push({ seq: parseInt(name.slice(0, 16), 16), lastIndex });
  });
  return { entries: afterSnapshot(run, snap, walDir), hardState, segments };
}

/** Appends in write order: a lower index replaces the suffix; a gap starts a new run. */
function extendRun(run: Entry[], e: Entry): Entry[] {
  if (run.length === 0) return [e];
  const first = run[0].index;
  const last = run[run.length - 1].index;
  if (e.index === last + 1) {
    run.push(e);
    return run;
  }
  if (e.index > last + 1 || e.index < first) return [e]; // After an installed snapshot.
  run.length = e.index - first;
  run.push(e);
  return run;
}

/** Keeps the entries after the snapshot, if they continue it. */
function afterSnapshot(run: Entry[], snap: Snapshot, walDir: string): Entry[] {
  const { index, term } = snap.metadata;
  if (run.length === 0) return [];
  const first = run[0].index;
  const last = run[run.length - 1].index;
  if (first > index + 1) {
    throw new StorageCorruptionError(
      `raft file storage: ${walDir} holds entries from ${first} but the newest snapshot ends at ${index}; ` +
        'segments are missing: restore this node from a peer',
    );
  }
  if (last <= index) return [];
  if (first === index + 1) return run;
  // The log covers the snapshot's index: it continues the snapshot only if the
  // terms agree there; otherwise the suffix is from a superseded history.
  if (run[index - first].term !== term) return [];
  return run.slice(index - first + 1);
}
