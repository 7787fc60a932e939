import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileStorage } from './file-storage';
import { StorageCorruptionError } from './file-recovery';
import { EntryType, type Entry } from './types';

const entry = (index: number, term = 1, text = `e${index}`): Entry => ({
  index,
  term,
  type: EntryType.NORMAL,
  data: new Uint8Array(Buffer.from(text)),
});

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raft-fs-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const segmentFiles = (): string[] => fs.readdirSync(path.join(dir, 'wal')).sort();
const texts = (s: FileStorage): string[] =>
  s.entries(s.firstIndex(), s.lastIndex() + 1, Infinity).map((e) => Buffer.from(e.data).toString());

describe('FileStorage', () => {
  test('entries and hard state survive a reopen; later writes replace a conflicting suffix', () => {
    const s = FileStorage.open(dir);
    s.append([entry(1), entry(2), entry(3)]);
    s.setHardState({ term: 1, vote: 2, commit: 1 });
    s.sync();
    s.append([entry(2, 2, 'x')]);
    s.sync();
    s.close();
    const r = FileStorage.open(dir);
    expect(texts(r)).toEqual(['e1', 'x']);
    expect(r.term(2)).toBe(2);
    expect(r.initialState().hardState).toEqual({ term: 1, vote: 2, commit: 1 });
    r.close();
  });

  test('writes not synced are not on disk', () => {
    const s = FileStorage.open(dir);
    s.append([entry(1)]);
    s.sync();
    s.append([entry(2)]); // No sync: a crash now loses it.
    const r = FileStorage.open(dir);
    expect(r.lastIndex()).toBe(1);
    r.close();
    s.close();
  });

  test('rolls segments, keeps the hard state in each, and deletes old ones after compaction', () => {
    const s = FileStorage.open(dir, { segmentBytesMax: 200 });
    for (let i = 1; i <= 40; i++) {
      s.append([entry(i)]);
      s.setHardState({ term: 1, vote: 0, commit: i });
      s.sync();
    }
    const before = segmentFiles().length;
    expect(before).toBeGreaterThan(3);
    s.createSnapshot(30, { voters: [1, 2, 3] }, new Uint8Array([7]));
    s.compact(30);
    expect(segmentFiles().length).toBeLessThan(before);
    s.close();
    const r = FileStorage.open(dir);
    expect(r.firstIndex()).toBe(31);
    expect(r.lastIndex()).toBe(40);
    expect(r.snapshot().metadata).toEqual({ index: 30, term: 1, confState: { voters: [1, 2, 3] } });
    expect(r.initialState().hardState.commit).toBe(40);
    r.close();
  });

  test('a torn tail is truncated at the last whole record', () => {
    const s = FileStorage.open(dir);
    s.append([entry(1), entry(2)]);
    s.sync();
    s.close();
    const seg = path.join(dir, 'wal', segmentFiles()[0]);
    const size = fs.statSync(seg).size;
    fs.truncateSync(seg, size - 3); // The last record lost its tail.
    fs.appendFileSync(seg, Buffer.alloc(64)); // And zeros follow, as after preallocation.
    const r = FileStorage.open(dir);
    expect(texts(r)).toEqual(['e1']);
    r.append([entry(2, 1, 'again')]);
    r.sync();
    r.close();
    expect(texts(FileStorage.open(dir))).toEqual(['e1', 'again']);
  });

  test('corruption before the tail is a hard error that says where and what to do', () => {
    const s = FileStorage.open(dir);
    s.append([entry(1), entry(2), entry(3)]);
    s.sync();
    s.close();
    const seg = path.join(dir, 'wal', segmentFiles()[0]);
    const buf = fs.readFileSync(seg);
    buf[12] ^= 0xff; // Inside the first record's payload.
    fs.writeFileSync(seg, buf);
    expect(() => FileStorage.open(dir)).toThrow(StorageCorruptionError);
    expect(() => FileStorage.open(dir)).toThrow(/at byte 0: record checksum mismatch.*restore this node from a peer/);
  });

  test('an installed snapshot replaces the log; stale entries do not come back after a crash', () => {
    const s = FileStorage.open(dir);
    s.append([entry(1), entry(2, 1), entry(3, 1)]);
    s.sync();
    // The leader sends a snapshot at 5 of term 2: our 1..3 are superseded.
    s.applySnapshot({ metadata: { index: 5, term: 2, confState: { voters: [1] } }, data: new Uint8Array([1]) });
    s.append([entry(6, 2)]);
    s.sync();
    s.close();
    const r = FileStorage.open(dir);
    expect(r.firstIndex()).toBe(6);
    expect(texts(r)).toEqual(['e6']);
    r.close();
    expect(fs.readdirSync(path.join(dir, 'snap'))).toEqual(['0000000000000005.snap']);
  });
});
