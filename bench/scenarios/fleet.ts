import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import pino from 'pino';
import { WorkerState } from '../../libs/gen/dtf/common/v1/common_pb';
import { Coordinator } from '../../services/coordinator/coordinator';
import { BenchChild } from '../child';
import type { Measure, Scenario } from '../scenario';
import { pairwiseRatio } from '../stats';

interface FleetSample {
  cpuShare: number;
  rssMiB: number;
  lagP99Ms: number;
  online: number;
}

/**
 * One coordinator with `workers` connected workers heartbeating every
 * `heartbeatMs`: its CPU share and RSS over a window, and the p99 delay of
 * its event loop, which bounds how late a heartbeat is processed.
 */
async function sampleFleet(workers: number, heartbeatMs: number, windowMs: number): Promise<FleetSample> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtf-bench-fleet-'));
  const c = await Coordinator.start({ dataDir: dir, listen: '127.0.0.1:0', logger: pino({ level: 'silent' }), liveness: { heartbeatIntervalMs: heartbeatMs, workerLeaseMs: 5 * heartbeatMs } });
  let child: BenchChild | undefined;
  try {
    child = (await BenchChild.start('fleet-workers.ts', [`127.0.0.1:${c.port}`, String(workers), String(heartbeatMs)])).child;
    await new Promise((r) => setTimeout(r, heartbeatMs));
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, windowMs));
    const cpu = process.cpuUsage(cpu0);
    const wall = performance.now() - t0;
    loop.disable();
    let online = 0;
    for (const w of c.state.workers.values()) if (w.state === WorkerState.ONLINE) online++;
    return { cpuShare: (cpu.user + cpu.system) / 1000 / wall, rssMiB: process.memoryUsage().rss / 2 ** 20, lagP99Ms: loop.percentile(99) / 1e6, online };
  } finally {
    await child?.stop();
    await c.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const fleet: Scenario = {
  name: 'fleet',
  summary: 'workers connected and heartbeating every 2 s on one coordinator (10,000 vs 100): CPU share, RSS, event-loop p99 as the bound on heartbeat processing lag',
  async run(ctx) {
    const big = ctx.smoke ? 500 : 10_000;
    const small = 100;
    const heartbeatMs = 2000;
    const windowMs = ctx.smoke ? 2000 : 10_000;
    const progress = ctx.progress(2 * ctx.reps);
    const m = (label: string, unit: string): Measure => ({ label, unit, samples: [] });
    const cpuBig = m(`CPU share, ${big} workers`, 'cores');
    const cpuSmall = m(`CPU share, ${small} workers`, 'cores');
    const lagBig = m(`event-loop p99, ${big} workers`, 'ms');
    const lagSmall = m(`event-loop p99, ${small} workers`, 'ms');
    const rssBig = m(`RSS, ${big} workers`, 'MiB');
    const rssSmall = m(`RSS, ${small} workers`, 'MiB');
    const lost: string[] = [];
    try {
      for (let rep = 1; rep <= ctx.reps; rep++) {
        for (const [n, cpu, lag, rss] of [[big, cpuBig, lagBig, rssBig], [small, cpuSmall, lagSmall, rssSmall]] as const) {
          const s = await sampleFleet(n, heartbeatMs, windowMs);
          cpu.samples.push(s.cpuShare);
          lag.samples.push(s.lagP99Ms);
          rss.samples.push(s.rssMiB);
          if (s.online !== n) lost.push(`${n - s.online} of ${n} workers not online in repetition ${rep}`);
          progress.step(`${n} workers ${rep}/${ctx.reps}: CPU ${s.cpuShare.toFixed(3)} cores, p99 loop ${s.lagP99Ms.toFixed(1)} ms, RSS ${s.rssMiB.toFixed(0)} MiB, ${s.online} online`);
        }
      }
    } finally {
      progress.finish();
    }
    return {
      status: 'ok',
      figures: [
        { name: 'CPU share, big ÷ small fleet', ratios: pairwiseRatio(cpuBig.samples, cpuSmall.samples), subject: cpuBig, baseline: cpuSmall },
        { name: 'event-loop p99, big ÷ small fleet', ratios: pairwiseRatio(lagBig.samples, lagSmall.samples), subject: lagBig, baseline: lagSmall },
        { name: 'RSS, big ÷ small fleet', ratios: pairwiseRatio(rssBig.samples, rssSmall.samples), subject: rssBig, baseline: rssSmall },
      ],
      notes: [
        lost.length === 0 ? `every worker stayed online through every window (lease ${5 * heartbeatMs} ms): the fleet holds` : `NOT HELD: ${lost.join('; ')}`,
        `measured in the coordinator's process over ${windowMs} ms; the workers run in a child process over real gRPC streams (500 per connection)`,
      ],
    };
  },
};
