/**
 * Storage crash tests: a child process writes to FileStorage and is killed
 * (SIGKILL) before each of its disk operations in turn — every write, fsync,
 * rename, directory fsync, unlink. After each kill the storage must reopen,
 * hold every entry and hard state that was acknowledged (synced), and accept
 * new writes. A torn tail (a partial record) must be truncated on open.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileStorage } from '../../libs/raft/file-storage';
import { EntryType } from '../../libs/raft/types';

const child = path.join(__dirname, 'crash-child.ts');
/** Children run a few at a time: each is a Node process start. */
const parallelChildren = 4;

function runChild(dir: string, crashAt: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--require', 'tsx/cjs', child, dir], {
      env: { ...process.env, CRASH_AT: String(crashAt) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code, signal) => {
      if (crashAt === 0 && code !== 0) reject(new Error(`child failed (${code}): ${stderr}`));
      else if (crashAt > 0 && signal !== 'SIGKILL') reject(new Error(`child was not killed at step ${crashAt}: ${stdout}${stderr}`));
      else resolve(stdout.split('\n').filter(Boolean));
    });
  });
}

/** Reopens the storage and checks what the child acknowledged is there. */
function verify(dir: string, lines: string[], crashAt: number): void {
  const acked = lines.filter((l) => l.startsWith('acked ')).map((l) => Number(l.split(' ')[1]));
  const s = FileStorage.open(dir);
  const where = `after a kill before step ${crashAt} (${lines[lines.length - 1] ?? 'no output'})`;
  const lastAcked = acked.length ? acked[acked.length - 1] : 0;
  expect({ where, lastIndexAtLeast: s.lastIndex() >= lastAcked }).toEqual({ where, lastIndexAtLeast: true });
  expect({ where, commit: s.initialState().hardState.commit >= lastAcked }).toEqual({ where, commit: true });
  for (let i = s.firstIndex(); i <= lastAcked; i++) {
    const [e] = s.entries(i, i + 1, Infinity);
    expect({ where, data: Buffer.from(e.data).toString() }).toEqual({ where, data: `entry-${i}` });
  }
  // It must accept new writes after recovery, and keep them.
  const next = s.lastIndex() + 1;
  s.append([{ index: next, term: 1, type: EntryType.NORMAL, data: new Uint8Array([1]) }]);
  s.sync();
  s.close();
  const again = FileStorage.open(dir);
  expect(again.lastIndex()).toBe(next);
  again.close();
}

describe('FileStorage under SIGKILL', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'raft-crash-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test('nothing acknowledged is lost, whichever disk operation the kill precedes', async () => {
    const full = await runChild(path.join(root, 'full'), 0);
    const steps = Number(full[full.length - 1].split(' ')[1]);
    expect(steps).toBeGreaterThan(30); // Writes, fsyncs, segment rolls, a snapshot, unlinks.
    const crashPoints = Array.from({ length: steps }, (_, i) => i + 1);
    for (let i = 0; i < crashPoints.length; i += parallelChildren) {
      const batch = crashPoints.slice(i, i + parallelChildren);
      const outputs = await Promise.all(batch.map((k) => runChild(path.join(root, `k${k}`), k)));
      batch.forEach((k, j) => verify(path.join(root, `k${k}`), outputs[j], k));
    }
  }, 120_000);

  test('a record torn by the kill is truncated on open', async () => {
    const dir = path.join(root, 'torn');
    await runChild(dir, 0);
    const wal = path.join(dir, 'wal');
    const last = path.join(wal, fs.readdirSync(wal).sort().pop()!);
    const size = fs.statSync(last).size;
    // As if the kill landed in the middle of writing the last record.
    fs.truncateSync(last, size - 5);
    const s = FileStorage.open(dir);
    // The child wrote entries 1..8; the torn record is the last one or a hard state.
    expect(s.lastIndex()).toBeGreaterThanOrEqual(7);
    expect(fs.statSync(last).size).toBeLessThan(size - 5);
    s.close();
  });
});
