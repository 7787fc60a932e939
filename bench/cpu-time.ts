import * as fs from 'node:fs';

/** The machine's CPU time so far, summed over its CPUs, in clock ticks (the first line of /proc/stat). */
export interface CpuTimes {
  busy: number;
  idle: number;
  /** Time the hypervisor ran something else while this machine's CPUs had work: no code here can win it back. */
  steal: number;
}

/** How the machine's CPU time went over a stretch, as fractions of all of it. */
export interface CpuShares {
  busy: number;
  idle: number;
  steal: number;
}

/**
 * Parses the aggregate `cpu` line of /proc/stat: user nice system idle
 * iowait irq softirq steal [guest guest_nice]. Guest time is already counted
 * in user and nice, so it is not added again; iowait counts as idle.
 */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = text.split('\n').find((l) => /^cpu\s/.test(l));
  if (!line) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 8 || f.slice(0, 8).some((x) => !Number.isFinite(x))) return undefined;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  return { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal };
}

/** The CPU times now, or undefined where /proc/stat is not there (not Linux). */
export function readCpuTimes(): CpuTimes | undefined {
  try {
    return parseProcStat(fs.readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

/** Shares of busy, idle and stolen time between two readings; undefined when no time passed. */
export function cpuShares(before: CpuTimes, after: CpuTimes): CpuShares | undefined {
  const busy = after.busy - before.busy;
  const idle = after.idle - before.idle;
  const steal = after.steal - before.steal;
  const total = busy + idle + steal;
  if (total <= 0) return undefined;
  return { busy: busy / total, idle: idle / total, steal: steal / total };
}

/** "71% busy, 25% idle, 4% stolen": how to read a scenario's figures. */
export function describeShares(s: CpuShares): string {
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  return `CPU ${pct(s.busy)} busy, ${pct(s.idle)} idle, ${pct(s.steal)} stolen by the hypervisor`;
}
