/**
 * `npm run bench [-- <scenario>...] [--smoke] [--reps N]`: runs the benchmark
 * scenarios, prints a table of ratios against baselines measured in the same
 * run, and writes the run as JSON under bench/results/.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { cpuShares, describeShares, readCpuTimes } from './cpu-time';
import { Progress } from './progress';
import { formatTable, hostInfo, writeJson, type RunReport, type ScenarioReport } from './report';
import type { Measure, RunContext, Scenario } from './scenario';
import { scenarios } from './scenarios/list';

/** Fewer repetitions than this give no range worth reporting. */
export const repsMin = 3;
/** Where runs are written; DTF_BENCH_RESULTS_DIR moves them (the CI smoke test writes to a temp dir). */
export const resultsDir = process.env.DTF_BENCH_RESULTS_DIR ?? path.join(__dirname, 'results');

interface Options {
  names: string[];
  smoke: boolean;
  reps: number;
}

const usage = `usage: npm run bench -- [scenario ...] [--smoke] [--reps N]
  scenario   one or more of: ${scenarios.map((s) => s.name).join(', ')} (default: all)
  --smoke    every selected scenario at a tiny size, to check the harness
  --reps N   repetitions of every measurement (at least ${repsMin}; default ${repsMin})`;

function parseArgs(argv: string[]): Options {
  const o: Options = { names: [], smoke: false, reps: repsMin };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--smoke') o.smoke = true;
    else if (a === '--reps') o.reps = Number(argv[++i]);
    else if (a === '--help' || a === '-h') {
      console.log(usage);
      process.exit(0);
    } else if (a.startsWith('-')) throw new Error(`unknown option "${a}"\n${usage}`);
    else o.names.push(a);
  }
  if (!Number.isInteger(o.reps) || o.reps < repsMin) throw new Error(`--reps ${argv[argv.indexOf('--reps') + 1]}: give a whole number of at least ${repsMin}`);
  const unknown = o.names.filter((n) => !scenarios.some((s) => s.name === n));
  if (unknown.length) throw new Error(`no scenario named ${unknown.map((n) => `"${n}"`).join(', ')}; choose from ${scenarios.map((s) => s.name).join(', ')}`);
  return o;
}

async function runOne(s: Scenario, ctx: RunContext): Promise<ScenarioReport> {
  const t0 = performance.now();
  const cpu0 = readCpuTimes();
  const cpu = () => {
    const cpu1 = readCpuTimes();
    return cpu0 && cpu1 ? cpuShares(cpu0, cpu1) : undefined;
  };
  try {
    const outcome = await s.run(ctx);
    return { name: s.name, summary: s.summary, durationMs: Math.round(performance.now() - t0), cpu: cpu(), ...outcome };
  } catch (e) {
    const err = e as Error;
    console.error(`  ${s.name} failed: ${err.stack ?? err.message}`);
    return { name: s.name, summary: s.summary, durationMs: Math.round(performance.now() - t0), cpu: cpu(), status: 'failed', reason: err.message };
  }
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const selected = opts.names.length ? scenarios.filter((s) => opts.names.includes(s.name)) : scenarios;
  const run: RunReport = { startedAt: new Date().toISOString(), smoke: opts.smoke, reps: opts.reps, host: hostInfo(), scenarios: [] };
  const shared = new Map<string, Measure>();
  const h = run.host;
  console.error(`DTF bench${opts.smoke ? ' (smoke)' : ''}: ${h.cpus} × ${h.cpuModel}, Node ${h.node}, load average ${h.loadAverageStart.map((l) => l.toFixed(2)).join(' ')}`);
  for (const s of selected) {
    console.error(`▶ ${s.name}: ${s.summary}`);
    const ctx: RunContext = { smoke: opts.smoke, reps: opts.reps, shared, progress: (steps) => new Progress(s.name, steps) };
    const report = await runOne(s, ctx);
    console.error(`  ${s.name}: ${report.status} in ${(report.durationMs / 1000).toFixed(1)} s${report.cpu ? `; ${describeShares(report.cpu)}` : ''}`);
    run.scenarios.push(report);
  }
  run.finishedAt = new Date().toISOString();
  run.host.loadAverageEnd = os.loadavg();
  console.log(formatTable(run));
  console.log(`\nload average at start ${h.loadAverageStart.map((l) => l.toFixed(2)).join(' ')}, at end ${run.host.loadAverageEnd.map((l) => l.toFixed(2)).join(' ')} on ${h.cpus} CPUs`);
  console.log(`written to ${path.relative(process.cwd(), writeJson(resultsDir, run))}`);
  return run.scenarios.some((s) => s.status === 'failed') ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(e.message);
    process.exit(2);
  },
);
