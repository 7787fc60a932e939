import type { LatencyLoad, LatencyResult } from '../latency-dtf';
import { measureDtfLatency } from '../latency-dtf';
import { measureBullmqLatency } from '../latency-bullmq';
import { ensureRedisServer, RedisServer } from '../redis-server';
import type { Figure, Measure, Scenario } from '../scenario';
import { pairwiseRatio } from '../stats';

type Pick = (r: LatencyResult) => number;

function figure(name: string, dtf: LatencyResult[], bull: LatencyResult[], pick: Pick, target?: string): Figure {
  const subject: Measure = { label: `DTF ${name}`, unit: 'ms', samples: dtf.map(pick) };
  const baseline: Measure = { label: `BullMQ ${name}`, unit: 'ms', samples: bull.map(pick) };
  return { name: `${name}: DTF ÷ BullMQ`, ratios: pairwiseRatio(subject.samples, baseline.samples), subject, baseline, target };
}

export const latency: Scenario = {
  name: 'latency',
  summary: 'submit-to-start and submit-to-result p50/p99/max (HDR histogram) at a steady 1,000 tasks/s on 100 simulated workers, beside BullMQ at the same rate',
  async run(ctx) {
    const load: LatencyLoad = ctx.smoke ? { ratePerSec: 200, warmupMs: 500, durationMs: 1000, workers: 20 } : { ratePerSec: 1000, warmupMs: 2000, durationMs: 5000, workers: 100 };
    const progress = ctx.progress(2 * ctx.reps + 1);
    const redis = ensureRedisServer((line) => progress.note(line));
    if (!redis.ok) {
      progress.finish();
      return { status: 'skipped', reason: `no BullMQ baseline: ${redis.reason}` };
    }
    progress.step(`using ${redis.path}`);
    const server = await RedisServer.start(redis.path);
    const dtf: LatencyResult[] = [];
    const bull: LatencyResult[] = [];
    try {
      for (let rep = 1; rep <= ctx.reps; rep++) {
        progress.note(`DTF ${rep}/${ctx.reps}: ${load.ratePerSec} jobs/s for ${(load.warmupMs + load.durationMs) / 1000} s`);
        dtf.push(await measureDtfLatency(load));
        progress.step(`DTF ${rep}/${ctx.reps}: start p99 ${dtf[rep - 1].toStart.p99.toFixed(1)} ms, result p99 ${dtf[rep - 1].toResult.p99.toFixed(1)} ms`);
        progress.note(`BullMQ ${rep}/${ctx.reps}: ${load.ratePerSec} jobs/s for ${(load.warmupMs + load.durationMs) / 1000} s`);
        bull.push(await measureBullmqLatency(server.port, rep, load));
        progress.step(`BullMQ ${rep}/${ctx.reps}: start p99 ${bull[rep - 1].toStart.p99.toFixed(1)} ms, result p99 ${bull[rep - 1].toResult.p99.toFixed(1)} ms`);
      }
    } finally {
      await server.stop();
      progress.finish();
    }
    const counts = dtf.map((r) => r.toResult.count).join(', ');
    return {
      status: 'ok',
      figures: [
        figure('submit-to-start p50', dtf, bull, (r) => r.toStart.p50),
        figure('submit-to-start p99', dtf, bull, (r) => r.toStart.p99, '< 1, and DTF p99 < 10 ms'),
        figure('submit-to-start max', dtf, bull, (r) => r.toStart.max),
        figure('submit-to-result p50', dtf, bull, (r) => r.toResult.p50),
        figure('submit-to-result p99', dtf, bull, (r) => r.toResult.p99),
        figure('submit-to-result max', dtf, bull, (r) => r.toResult.max),
      ],
      notes: [
        `${load.ratePerSec} one-task jobs/s for ${load.durationMs} ms after ${load.warmupMs} ms of warm-up at the same rate (not recorded, on both sides), open loop, submitted from a child process on both sides; DTF's coordinator in a child process of its own, fresh per repetition (BullMQ: one Redis, a queue per repetition); ${load.workers} simulated workers × 1 slot (DTF) and a BullMQ Worker with concurrency ${load.workers}; lower ratios are better here`,
        `DTF results timed per repetition: ${counts}; start is the worker's receipt (ms clock), result is the coordinator applying the committed result; BullMQ uses its job timestamps (ms)`,
      ],
    };
  },
};
