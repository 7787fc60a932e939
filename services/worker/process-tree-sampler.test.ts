import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseProcStat, parseProcStatm, ProcessTreeSampler, treeMembers, type ProcStat } from './process-tree-sampler';

/** A /proc/<pid>/stat line with the fields the parser reads set and the rest zero. */
function statLine(pid: number, comm: string, ppid: number, pgrp: number, utime: number, stime: number, start = 1000): string {
  const rest = Array.from({ length: 30 }, () => '0');
  const f = ['S', String(ppid), String(pgrp), ...rest];
  f[11] = String(utime);
  f[12] = String(stime);
  f[19] = String(start);
  return `${pid} (${comm}) ${f.join(' ')}\n`;
}

describe('parseProcStat', () => {
  it('reads pid, ppid, pgrp, cpu ticks and start time, even with ") " in the command name', () => {
    expect(parseProcStat(statLine(42, 'evil) 1 2 (name', 7, 40, 30, 12, 555))).toEqual({
      pid: 42,
      ppid: 7,
      pgrp: 40,
      cpuTicks: 42,
      startTicks: 555,
    });
  });

  it('reads a real line from this process', async () => {
    const { readFile } = await import('node:fs/promises');
    if (process.platform !== 'linux') return;
    const stat = parseProcStat(await readFile('/proc/self/stat', 'utf8'));
    expect(stat?.ppid).toBeGreaterThan(0);
    expect(stat?.startTicks).toBeGreaterThan(0);
  });

  it('returns undefined for text that does not fit', () => {
    expect(parseProcStat('')).toBeUndefined();
    expect(parseProcStat('12 (x) S 1')).toBeUndefined();
  });
});

describe('parseProcStatm', () => {
  it('reads resident pages as bytes', () => {
    expect(parseProcStatm('1000 250 100 10 0 300 0\n', 4096)).toBe(250 * 4096);
    expect(parseProcStatm('', 4096)).toBeUndefined();
  });
});

describe('treeMembers', () => {
  const s = (pid: number, ppid: number, pgrp: number): ProcStat => ({ pid, ppid, pgrp, cpuTicks: 0, startTicks: 0 });

  it('takes the root, its process group, and descendants that left the group', () => {
    const stats = [s(1, 0, 1), s(10, 1, 10), s(11, 10, 10), s(12, 11, 12), s(13, 12, 13), s(20, 1, 20), s(30, 1, 10)];
    expect(treeMembers(stats, 10).map((m) => m.pid).sort((a, b) => a - b)).toEqual([10, 11, 12, 13, 30]);
  });

  it('finds the group when the root itself has exited', () => {
    expect(treeMembers([s(11, 1, 10), s(12, 11, 10)], 10).map((m) => m.pid).sort()).toEqual([11, 12]);
  });
});

describe('ProcessTreeSampler', () => {
  it('computes CPU percent from tick deltas between samples (fake /proc)', async () => {
    const proc = await mkdtemp(path.join(os.tmpdir(), 'dtf-proc-'));
    try {
      const write = async (pid: number, stat: string, statm: string) => {
        await mkdir(path.join(proc, String(pid)), { recursive: true });
        await writeFile(path.join(proc, String(pid), 'stat'), stat);
        await writeFile(path.join(proc, String(pid), 'statm'), statm);
      };
      await write(100, statLine(100, 'sh', 1, 100, 0, 0), '10 2 0 0 0 0 0');
      await write(101, statLine(101, 'work', 100, 100, 0, 0), '10 3 0 0 0 0 0');
      await write(200, statLine(200, 'other', 1, 200, 500, 0), '10 50 0 0 0 0 0');
      let now = 0;
      const sampler = new ProcessTreeSampler(100, { procDir: proc, now: () => now, clockTicksPerSecond: 100, pageBytes: 4096 });
      // One second later the worker has used 150 ticks: 1.5 s of CPU at 100 ticks/s.
      await write(101, statLine(101, 'work', 100, 100, 100, 50), '10 3 0 0 0 0 0');
      now = 1000;
      const first = sampler.sample();
      expect(first.processCount).toBe(2);
      expect(first.memoryBytes).toBe(5 * 4096);
      expect(first.cpuPercent).toBeCloseTo(150, 6);
      // Same ticks a second later: idle.
      now = 2000;
      expect(sampler.sample().cpuPercent).toBe(0);
      // A new process appears with 20 ticks; the old one adds 10.
      await write(102, statLine(102, 'new', 101, 100, 20, 0, 2000), '10 1 0 0 0 0 0');
      await write(101, statLine(101, 'work', 100, 100, 110, 50), '10 3 0 0 0 0 0');
      now = 3000;
      expect(sampler.sample().cpuPercent).toBeCloseTo(30, 6);
    } finally {
      await rm(proc, { recursive: true, force: true });
    }
  });

  const linuxIt = process.platform === 'linux' ? it : it.skip;
  linuxIt('sees a real shell, its busy loop and its background children', async () => {
    const child = spawn('/bin/sh', ['-c', 'sleep 30 & sleep 30 & while :; do :; done'], { detached: true, stdio: 'ignore' });
    const pid = child.pid as number;
    try {
      const sampler = new ProcessTreeSampler(pid);
      await new Promise((r) => setTimeout(r, 400));
      const sample = sampler.sample();
      expect(sample.processCount).toBe(3);
      expect(sample.memoryBytes).toBeGreaterThan(100 * 1024);
      expect(sample.cpuPercent).toBeGreaterThan(0);
    } finally {
      process.kill(-pid, 'SIGKILL');
    }
  });
});
