import { measureBullmqThroughput } from '../bullmq-throughput';
import { measureDtfThroughput, type ThroughputLoad } from '../dtf-throughput';
import { ensureRedisServer, RedisServer } from '../redis-server';
import type { Measure, Scenario } from '../scenario';
import { pairwiseRatio } from '../stats';

/**
 * The design's fleet: 100 simulated workers, one slot each, so 100 tasks
 * run at once on either side. DTF's workers also take tasks ahead of their
 * slot (`dtf worker --prefetch`), so that an assignment and a result carry
 * many tasks per stream message; BullMQ's Worker has no such queue.
 */
export function throughputLoad(smoke: boolean): ThroughputLoad {
  return smoke
    ? { tasks: 300, workers: 20, slotsPerWorker: 1, prefetch: 4, batch: 100, warmupTasks: 100 }
    : { tasks: 40_000, workers: 100, slotsPerWorker: 1, prefetch: 64, batch: 1000, warmupTasks: 10_000 };
}

/** Key under which the DTF rate is shared with later scenarios of the run (`limit`). */
export const dtfThroughputKey = 'throughput.dtf';

export const throughput: Scenario = {
  name: 'throughput',
  summary: 'end-to-end no-op tasks/s (submit → push → result in the log → result in DuckDB), 100 simulated workers over gRPC, vs BullMQ on a local Redis',
  async run(ctx) {
    const load = throughputLoad(ctx.smoke);
    const progress = ctx.progress(2 * ctx.reps + 1);
    const redis = ensureRedisServer((line) => progress.note(line));
    if (!redis.ok) {
      progress.finish();
      return { status: 'skipped', reason: `no BullMQ baseline: ${redis.reason}` };
    }
    progress.step(redis.installed ? `installed ${redis.path}` : `using ${redis.path}`);
    const server = await RedisServer.start(redis.path);
    const dtf: Measure = { label: 'DTF end to end', unit: 'tasks/s', samples: [] };
    const bull: Measure = { label: 'BullMQ on Redis', unit: 'jobs/s', samples: [] };
    try {
      // Interleaved, so a neighbour's burst on a shared machine hits both sides alike.
      for (let rep = 1; rep <= ctx.reps; rep++) {
        dtf.samples.push(await measureDtfThroughput(load, (n) => progress.note(`DTF ${rep}/${ctx.reps}: ${n}/${load.tasks}`)));
        progress.step(`DTF ${rep}/${ctx.reps}: ${Math.round(dtf.samples[rep - 1])} tasks/s`);
        bull.samples.push(await measureBullmqThroughput(server.port, rep, load));
        progress.step(`BullMQ ${rep}/${ctx.reps}: ${Math.round(bull.samples[rep - 1])} jobs/s`);
      }
    } finally {
      await server.stop();
      progress.finish();
    }
    ctx.shared.set(dtfThroughputKey, dtf);
    return {
      status: 'ok',
      figures: [{ name: 'DTF ÷ BullMQ', ratios: pairwiseRatio(dtf.samples, bull.samples), subject: dtf, baseline: bull, target: '≥ 3' }],
      notes: [
        `${load.tasks} tasks in jobs of ${load.batch}, ${load.workers} workers × ${load.slotsPerWorker} slot(s), DTF workers taking ${load.prefetch} ahead (--prefetch); BullMQ: one Worker, concurrency ${load.workers * load.slotsPerWorker}, addBulk of ${load.batch}`,
        `each trial first runs ${load.warmupTasks} tasks the same way, untimed, on both sides: the submitting and working child processes are fresh in every trial, and a fresh process's first second is its JIT compiler's`,
      ],
    };
  },
};
