import { create, toBinary } from '@bufbuild/protobuf';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CommandSchema, type Command } from '../gen/dtf/state/v1/command_pb';
import type { ApplyResult } from '../state/coordinator-state';
import { FileLog } from './file-log';
import { recordBytesMax, recordHeaderBytes } from './record-file';
import { LogError } from './replicated-log';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtf-file-log-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Entry n: a checkpoint command whose time and index are n, easy to recognise on replay. */
function entry(n: number, name = ''): Command {
  if (name) {
    return create(CommandSchema, { timeMs: BigInt(n), kind: { case: 'submitJob', value: { job: { id: `j${n}`, name } } } });
  }
  return create(CommandSchema, { timeMs: BigInt(n), kind: { case: 'collectorCheckpoint', value: { index: BigInt(n) } } });
}

function recordBytes(n: number): number {
  return recordHeaderBytes + toBinary(CommandSchema, entry(n)).length;
}

/** An apply callback that remembers what it saw and answers with the entry's index. */
function recorder(): { seen: [bigint, bigint][]; apply: (i: bigint, c: Command) => ApplyResult } {
  const seen: [bigint, bigint][] = [];
  return {
    seen,
    apply: (i, c) => {
      seen.push([i, c.timeMs]);
      return { kind: 'submitted', jobId: `entry-${i}`, duplicate: false };
    },
  };
}

async function writeEntries(file: string, count: number): Promise<void> {
  const log = await FileLog.open(file, recorder().apply);
  await Promise.all(Array.from({ length: count }, (_, i) => log.propose(entry(i + 1))));
  await log.close();
}

async function replay(file: string, onWarning?: (m: string) => void): Promise<{ seen: [bigint, bigint][]; log: FileLog }> {
  const r = recorder();
  const log = await FileLog.open(file, r.apply, onWarning);
  return { seen: r.seen, log };
}

function range(from: number, to: number): [bigint, bigint][] {
  return Array.from({ length: to - from + 1 }, (_, i) => [BigInt(from + i), BigInt(from + i)]);
}

describe('FileLog', () => {
  it('replays every entry into apply on reopen and continues the numbering', async () => {
    const file = path.join(dir, 'log');
    await writeEntries(file, 5);
    const { seen, log } = await replay(file);
    expect(seen).toEqual(range(1, 5));
    expect(log.appliedIndex()).toBe(5n);
    expect(await log.propose(entry(6))).toEqual({ kind: 'submitted', jobId: 'entry-6', duplicate: false });
    await log.close();
    const again = await replay(file);
    expect(again.seen).toEqual(range(1, 6));
    await again.log.close();
  });

  it('truncates a tail torn at any byte of the last record, keeping every earlier entry', async () => {
    const file = path.join(dir, 'log');
    await writeEntries(file, 4);
    const whole = fs.readFileSync(file);
    const lastStart = whole.length - recordBytes(4);
    for (let cut = lastStart + 1; cut < whole.length; cut++) {
      fs.writeFileSync(file, whole.subarray(0, cut));
      const warnings: string[] = [];
      const { seen, log } = await replay(file, (m) => warnings.push(m));
      expect(seen).toEqual(range(1, 3));
      expect(warnings).toEqual([`${file}: torn tail of ${cut - lastStart} bytes at byte ${lastStart} truncated`]);
      expect(fs.statSync(file).size).toBe(lastStart);
      // New entries land right after the valid prefix.
      await log.propose(entry(4));
      await log.close();
      expect(fs.readFileSync(file)).toEqual(whole);
    }
  });

  it('refuses to open a log damaged before its end, naming the file and leaving it as it was', async () => {
    const file = path.join(dir, 'log');
    await writeEntries(file, 4);
    const damaged = fs.readFileSync(file);
    const secondStart = recordBytes(1);
    damaged[secondStart + recordHeaderBytes + 1]! ^= 0x40;
    fs.writeFileSync(file, damaged);
    const r = recorder();
    const opening = FileLog.open(file, r.apply);
    await expect(opening).rejects.toThrow(LogError);
    await expect(opening).rejects.toThrow(`${file}: invalid record at byte ${secondStart}`);
    await expect(opening).rejects.toThrow('Restore it from a backup');
    expect(r.seen).toEqual([]);
    expect(fs.readFileSync(file)).toEqual(damaged);
  });

  it('groups concurrent proposals into one write, fsyncs before applying, and answers each in order', async () => {
    const file = path.join(dir, 'log');
    const sizeAtApply: number[] = [];
    const log = await FileLog.open(file, (i) => {
      sizeAtApply.push(fs.statSync(file).size);
      return { kind: 'submitted', jobId: `entry-${i}`, duplicate: false };
    });
    const count = 10;
    const answered: number[] = [];
    const results = await Promise.all(
      Array.from({ length: count }, (_, k) =>
        log.propose(entry(k + 1)).then((r) => {
          answered.push(k + 1);
          return r;
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: count }, (_, k) => ({ kind: 'submitted', jobId: `entry-${k + 1}`, duplicate: false })));
    expect(answered).toEqual(Array.from({ length: count }, (_, k) => k + 1));
    // Proposals made in the same turn go out in one write, all on disk
    // before the first of them is applied.
    let all = 0;
    for (let n = 1; n <= count; n++) all += recordBytes(n);
    expect(sizeAtApply).toEqual(Array<number>(count).fill(all));
    expect(log.appliedIndex()).toBe(BigInt(count));
    await log.close();
  });

  it('refuses an entry over the size limit, or an empty one, without changing the file', async () => {
    const file = path.join(dir, 'log');
    const r = recorder();
    const log = await FileLog.open(file, r.apply);
    await log.propose(entry(1));
    const before = fs.readFileSync(file);
    const huge = entry(2, 'x'.repeat(recordBytesMax));
    await expect(log.propose(huge)).rejects.toThrow(/exceeds the 8388608-byte entry limit/);
    await expect(log.propose(create(CommandSchema))).rejects.toThrow(LogError);
    expect(fs.readFileSync(file)).toEqual(before);
    // The log is still usable, and the refused entries took no index.
    expect(await log.propose(entry(2))).toMatchObject({ jobId: 'entry-2' });
    expect(r.seen).toEqual(range(1, 2));
    await log.close();
  });

  it('keeps every acknowledged entry when its writer is killed with SIGKILL', async () => {
    const file = path.join(dir, 'log');
    const writer = path.join(__dirname, 'testdata', 'crash-writer.ts');
    const script = `require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register(); require(${JSON.stringify(writer)});`;
    const child = spawn(process.execPath, ['-e', script, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: number[] = [];
    let stderr = '';
    let partial = '';
    const ackTarget = 300;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    child.stdout.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      for (const l of lines) acked.push(Number(l));
      if (acked.length >= ackTarget) child.kill('SIGKILL');
    });
    const { signal } = await exited;
    if (signal !== 'SIGKILL') throw new Error(`crash writer ended by itself (signal ${signal}): ${stderr}`);
    expect(acked.length).toBeGreaterThanOrEqual(ackTarget);
    const { seen, log } = await replay(file);
    await log.close();
    // Entries are written in proposal order: the log holds 1..m, every acknowledged one included.
    expect(seen).toEqual(range(1, seen.length));
    expect(seen.length).toBeGreaterThanOrEqual(Math.max(...acked));
    const present = new Set(seen.map(([, t]) => Number(t)));
    expect(acked.filter((n) => !present.has(n))).toEqual([]);
  });
});
