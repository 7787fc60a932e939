import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** CPU and memory of a process tree at one moment. */
export interface ProcessSample {
  /** CPU time used since the previous sample, as a percentage of one core (may exceed 100). */
  cpuPercent: number;
  /** Sum of the resident set sizes; pages shared between the processes count once per process. */
  memoryBytes: number;
  /** How many processes the tree had. */
  processCount: number;
}

/** The fields of /proc/<pid>/stat the sampler uses. */
export interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
  /** Start time after boot, in clock ticks; with pid it names a process even across pid reuse. */
  startTicks: number;
}

/**
 * Parses one /proc/<pid>/stat line. The command name is in parentheses and may itself
 * contain spaces and parentheses, so fields are counted from the last ")". Returns undefined
 * for text that does not fit (a process exiting mid-read can leave it empty).
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const pid = Number.parseInt(text, 10);
  // After ") ": state(3) ppid(4) pgrp(5) … utime(14) stime(15) … starttime(22), so field n is at n - 3.
  const f = text.slice(close + 2).trim().split(/\s+/);
  if (f.length < 20) return undefined;
  const stat = {
    pid,
    ppid: Number(f[1]),
    pgrp: Number(f[2]),
    cpuTicks: Number(f[11]) + Number(f[12]),
    startTicks: Number(f[19]),
  };
  return Object.values(stat).every(Number.isFinite) ? stat : undefined;
}

/** Parses /proc/<pid>/statm into resident bytes (its second field counts pages). */
export function parseProcStatm(text: string, pageBytes: number): number | undefined {
  const resident = Number(text.trim().split(/\s+/)[1]);
  return Number.isFinite(resident) ? resident * pageBytes : undefined;
}

/**
 * The pids in the tree rooted at `rootPid`: the root, every process in its process group
 * (a task runs as a group leader), and every descendant of those, which catches children that
 * moved to a group of their own.
 */
export function treeMembers(stats: readonly ProcStat[], rootPid: number): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) {
    const list = children.get(s.ppid);
    if (list) list.push(s);
    else children.set(s.ppid, [s]);
  }
  const seen = new Set<number>();
  const queue = stats.filter((s) => s.pid === rootPid || s.pgrp === rootPid);
  const members: ProcStat[] = [];
  while (queue.length > 0) {
    const s = queue.pop() as ProcStat;
    if (seen.has(s.pid)) continue;
    seen.add(s.pid);
    members.push(s);
    queue.push(...(children.get(s.pid) ?? []));
  }
  return members;
}

/** Options for {@link ProcessTreeSampler}. */
export interface ProcessTreeSamplerOptions {
  /** Defaults to Date.now. */
  now?: () => number;
  /** Defaults to "/proc". */
  procDir?: string;
  /** Defaults to `getconf CLK_TCK` (usually 100). */
  clockTicksPerSecond?: number;
  /** Defaults to `getconf PAGESIZE` (usually 4096). */
  pageBytes?: number;
}

/**
 * Samples CPU and memory of the process tree rooted at a pid from /proc, one directory scan
 * per sample. CPU is measured from construction, so construct it when the root starts. On a
 * platform without /proc every sample is zero.
 */
export class ProcessTreeSampler {
  private readonly now: () => number;
  private readonly procDir: string;
  private readonly units?: { clockTicksPerSecond: number; pageBytes: number };
  private readonly enabled = process.platform === 'linux';
  private lastAtMs: number;
  /** cpuTicks at the previous sample, by "pid:startTicks". */
  private lastTicks = new Map<string, number>();

  constructor(private readonly rootPid: number, opts: ProcessTreeSamplerOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.procDir = opts.procDir ?? '/proc';
    this.lastAtMs = this.now();
    if (opts.clockTicksPerSecond && opts.pageBytes) {
      this.units = { clockTicksPerSecond: opts.clockTicksPerSecond, pageBytes: opts.pageBytes };
    }
  }

  /** Reads the tree now; see {@link ProcessSample}. */
  sample(): ProcessSample {
    if (!this.enabled) return { cpuPercent: 0, memoryBytes: 0, processCount: 0 };
    const { clockTicksPerSecond, pageBytes } = this.units ?? systemUnits();
    const members = treeMembers(this.readStats(), this.rootPid);
    const ticks = new Map<string, number>();
    let deltaTicks = 0;
    let memoryBytes = 0;
    for (const m of members) {
      const key = `${m.pid}:${m.startTicks}`;
      ticks.set(key, m.cpuTicks);
      deltaTicks += Math.max(0, m.cpuTicks - (this.lastTicks.get(key) ?? 0));
      memoryBytes += this.readResident(m.pid, pageBytes);
    }
    const atMs = this.now();
    const elapsedMs = atMs - this.lastAtMs;
    this.lastAtMs = atMs;
    this.lastTicks = ticks;
    const cpuPercent = elapsedMs > 0 ? (deltaTicks / clockTicksPerSecond / (elapsedMs / 1000)) * 100 : 0;
    return { cpuPercent, memoryBytes, processCount: members.length };
  }

  private readStats(): ProcStat[] {
    const stats: ProcStat[] = [];
    for (const name of readdirSync(this.procDir)) {
      if (!/^\d+$/.test(name)) continue;
      const text = readOrEmpty(`${this.procDir}/${name}/stat`);
      const stat = text === '' ? undefined : parseProcStat(text);
      if (stat) stats.push(stat);
    }
    return stats;
  }

  private readResident(pid: number, pageBytes: number): number {
    return parseProcStatm(readOrEmpty(`${this.procDir}/${pid}/statm`), pageBytes) ?? 0;
  }
}

/** A process can exit between the directory scan and the read; that is not an error. */
function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

let units: { clockTicksPerSecond: number; pageBytes: number } | undefined;

/** Clock ticks per second and page size, asked of getconf once; Linux's usual values if that fails. */
function systemUnits(): { clockTicksPerSecond: number; pageBytes: number } {
  units ??= { clockTicksPerSecond: getconf('CLK_TCK', 100), pageBytes: getconf('PAGESIZE', 4096) };
  return units;
}

function getconf(name: string, fallback: number): number {
  try {
    const n = Number(execFileSync('getconf', [name], { encoding: 'utf8', timeout: 5000 }).trim());
    return Number.isInteger(n) && n > 0 ? n : fallback;
  } catch {
    return fallback;
  }
}
