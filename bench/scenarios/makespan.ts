import { createClient } from '@connectrpc/connect';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { SchedulerService } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { createGrpcTransport } from '../../libs/rpc/grpc-transport';
import { Coordinator } from '../../services/coordinator/coordinator';
import { BenchChild } from '../child';
import { heavyTailedDurations, lowerBound, pullMakespan, roundRobinMakespan } from '../makespan-plan';
import type { Measure, Scenario } from '../scenario';
import { pairwiseRatio } from '../stats';

const workers = 8;
/** Tasks each worker takes ahead, as `dtf worker --prefetch 2` does. */
const prefetch = 2;

/**
 * Runs the suite twice through a fresh coordinator and 8 timed workers and
 * returns the second run's makespan in ms: the first run is the history
 * (as in CI, where the same suite runs again and again) from which the
 * coordinator predicts each task's duration and starts the longest first.
 */
async function dtfMakespan(durations: number[]): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtf-bench-mk-'));
  const c = await Coordinator.start({ dataDir: dir, listen: '127.0.0.1:0', logger: pino({ level: 'silent' }) });
  const transport = createGrpcTransport(`127.0.0.1:${c.port}`);
  let child: BenchChild | undefined;
  try {
    child = (await BenchChild.start('makespan-workers.ts', [`127.0.0.1:${c.port}`, String(workers), String(prefetch)])).child;
    const scheduler = createClient(SchedulerService, transport);
    let elapsed = 0;
    for (let run = 0; run < 2; run++) {
      const t0 = performance.now();
      const res = await scheduler.submitJob({ name: 'suite', tasks: durations.map((ms, i) => ({ name: `test-${i}`, argv: ['true'], env: { DTF_SIM_MS: String(ms) } })) });
      const jobId = res.job!.id;
      for (;;) {
        const counts = c.state.jobs.get(jobId)!.job.counts!;
        if (counts.succeeded === durations.length) break;
        if (counts.failed + counts.errored > 0) throw new Error('a makespan task failed');
        await c.changes.next(undefined, 1000);
      }
      elapsed = performance.now() - t0;
    }
    return elapsed;
  } finally {
    await child?.stop();
    transport.close();
    await c.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const makespan: Scenario = {
  name: 'makespan',
  summary: '1,000 heavy-tailed tasks on 8 workers against the lower bound max(sum/8, longest): DTF vs static round-robin shards vs history-blind pull',
  async run(ctx) {
    const n = ctx.smoke ? 200 : 1000;
    const targetMs = ctx.smoke ? 1000 : 4000;
    const progress = ctx.progress(ctx.reps);
    const m = (label: string): Measure => ({ label, unit: 'ms', samples: [] });
    const dtf = m('DTF makespan');
    const bound = m('lower bound max(sum/8, longest)');
    const rr = m('round-robin shards (ideal, no overhead)');
    const pull = m('history-blind pull (ideal, no overhead)');
    try {
      for (let rep = 1; rep <= ctx.reps; rep++) {
        const durations = heavyTailedDurations(n, workers, targetMs, 1000 + rep);
        bound.samples.push(lowerBound(durations, workers));
        rr.samples.push(roundRobinMakespan(durations, workers));
        pull.samples.push(pullMakespan(durations, workers));
        dtf.samples.push(await dtfMakespan(durations));
        progress.step(`${rep}/${ctx.reps}: DTF ${dtf.samples[rep - 1].toFixed(0)} ms, bound ${bound.samples[rep - 1].toFixed(0)} ms`);
      }
    } finally {
      progress.finish();
    }
    return {
      status: 'ok',
      figures: [
        { name: 'DTF ÷ lower bound', ratios: pairwiseRatio(dtf.samples, bound.samples), subject: dtf, baseline: bound, target: '≤ 1.05' },
        { name: 'DTF ÷ round-robin shards', ratios: pairwiseRatio(dtf.samples, rr.samples), subject: dtf, baseline: rr, target: '< 1' },
        { name: 'DTF ÷ history-blind pull', ratios: pairwiseRatio(dtf.samples, pull.samples), subject: dtf, baseline: pull, target: '< 1' },
      ],
      notes: [
        `${n} tasks, Pareto(1.5) durations capped at 50× the shortest, scaled so sum/8 = ${targetMs} ms; the same durations for all three, a new seed per repetition`,
        'the comparison strategies are computed exactly with no overhead (their best case); DTF runs for real over gRPC with timed simulated workers and pays its own overheads',
        'DTF runs the suite once to learn durations (its history), then the measured run starts the longest predicted tasks first; its figure includes real gRPC, log commits and worker round trips',
        `each DTF worker runs one task at a time and takes ${prefetch} ahead (dtf worker --prefetch ${prefetch}), so it does not idle while a result commits and its next task is chosen`,
      ],
    };
  },
};
