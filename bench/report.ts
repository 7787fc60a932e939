import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeShares, type CpuShares } from './cpu-time';
import type { Figure, Measure, Outcome } from './scenario';
import { summarize, type Summary } from './stats';

/** One scenario's entry in a run's report. */
export type ScenarioReport = {
  name: string;
  summary: string;
  durationMs: number;
  /** How the machine's CPU time went while the scenario ran (Linux only): steal says how much a noisy host took. */
  cpu?: CpuShares;
} & (Outcome | { status: 'failed'; reason: string });

/** The machine a run happened on; the load figures say how busy it was. */
export interface HostInfo {
  cpus: number;
  cpuModel: string;
  totalMemoryBytes: number;
  node: string;
  platform: string;
  loadAverageStart: number[];
  loadAverageEnd?: number[];
}

/** A whole run, as written to bench/results/*.json. */
export interface RunReport {
  startedAt: string;
  finishedAt?: string;
  smoke: boolean;
  reps: number;
  host: HostInfo;
  scenarios: ScenarioReport[];
}

export function hostInfo(): HostInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', totalMemoryBytes: os.totalmem(),
    node: process.version, platform: `${os.platform()} ${os.release()}`, loadAverageStart: os.loadavg(),
  };
}

/** Writes the run as JSON under `dir`, named by its start time; returns the path. */
export function writeJson(dir: string, run: RunReport): string {
  fs.mkdirSync(dir, { recursive: true });
  const stamp = run.startedAt.replace(/[:.]/g, '-');
  const file = path.join(dir, `${stamp}${run.smoke ? '-smoke' : ''}.json`);
  const withSummaries = {
    ...run,
    scenarios: run.scenarios.map((s) => (s.status === 'ok' ? { ...s, figures: s.figures.map(figureJson) } : s)),
  };
  fs.writeFileSync(file, JSON.stringify(withSummaries, null, 2) + '\n');
  return file;
}

function figureJson(f: Figure) {
  const measure = (m: Measure) => ({ ...m, ...summarize(m.samples) });
  return { name: f.name, target: f.target, ratio: { samples: f.ratios, ...summarize(f.ratios) }, subject: measure(f.subject), baseline: measure(f.baseline) };
}

/** The terminal table: one row per figure, ratio first, absolutes as context. */
export function formatTable(run: RunReport): string {
  const rows: string[][] = [['scenario', 'figure', 'ratio (median)', 'min–max', 'target', 'subject (median, min–max)', 'baseline (median, min–max)']];
  const notes: string[] = [];
  for (const s of run.scenarios) {
    if (s.status !== 'ok') {
      rows.push([s.name, `${s.status.toUpperCase()}: ${s.reason}`]);
      continue;
    }
    for (const f of s.figures) {
      const r = summarize(f.ratios);
      rows.push([s.name, f.name, `${ratio(r.median)}`, `${ratio(r.min)}–${ratio(r.max)}`, f.target ?? '', absolute(f.subject), absolute(f.baseline)]);
    }
    for (const n of s.notes) notes.push(`${s.name}: ${n}`);
    if (s.cpu) notes.push(`${s.name}: ${describeShares(s.cpu)} while it ran`);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.filter((r) => r.length > 2).map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => (r.length <= 2 ? `${r[0].padEnd(widths[0])}  ${r[1]}` : r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd());
  const out = [line(rows[0]), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  if (notes.length) out.push('', ...notes);
  return out.join('\n');
}

function absolute(m: Measure): string {
  const s: Summary = summarize(m.samples);
  return `${m.label}: ${num(s.median)} (${num(s.min)}–${num(s.max)}) ${m.unit}`;
}

/** Three significant digits, so 0.0123 and 12.3 read alike. */
function ratio(x: number): string {
  return `${x >= 1000 ? Math.round(x).toLocaleString('en-US') : Number(x.toPrecision(3)).toString()}×`;
}

function num(x: number): string {
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1);
}
