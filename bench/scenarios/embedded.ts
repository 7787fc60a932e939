import { createClient } from '@connectrpc/connect';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { SchedulerService } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { createGrpcTransport } from '../../libs/rpc/grpc-transport';
import { startEmbedded } from '../../services/cli/embedded';
import { submitNoopJobs, waitAllStored } from '../dtf-jobs';
import type { Measure, Scenario } from '../scenario';
import { spawnRate } from '../spawn-rate';
import { pairwiseRatio } from '../stats';

/** `dtf up`'s default shape: two local workers with one slot each. */
export const embeddedWorkers = 2;

/**
 * One trial of `dtf up` on a fresh data directory: `tasks` tasks running
 * `true` as real child processes on the local workers, timed from the first
 * submit until the last result is in DuckDB. Returns tasks per second.
 */
async function measureEmbedded(tasks: number, onProgress: (done: number) => void): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtf-bench-up-'));
  const emb = await startEmbedded({ dataDir: dir, workers: embeddedWorkers, slots: 1, port: 0, logger: pino({ level: 'silent' }) });
  const transport = createGrpcTransport(emb.coordinatorAddress);
  try {
    const scheduler = createClient(SchedulerService, transport);
    const t0 = performance.now();
    const jobIds = await submitNoopJobs(scheduler, tasks, tasks);
    await waitAllStored(emb.coordinator, emb.collector, jobIds, tasks, onProgress);
    return (tasks / (performance.now() - t0)) * 1000;
  } finally {
    transport.close();
    await emb.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const embedded: Scenario = {
  name: 'embedded',
  summary: `no-op tasks/s through \`dtf up\` (${embeddedWorkers} local workers × 1 slot, \`true\` as real child processes) vs spawning \`true\` from Node ${embeddedWorkers} at a time`,
  async run(ctx) {
    const tasks = ctx.smoke ? 20 : 200;
    const progress = ctx.progress(2 * ctx.reps);
    const dtf: Measure = { label: 'dtf up', unit: 'tasks/s', samples: [] };
    const bare: Measure = { label: `spawn true ×${embeddedWorkers}`, unit: 'procs/s', samples: [] };
    try {
      for (let rep = 1; rep <= ctx.reps; rep++) {
        dtf.samples.push(await measureEmbedded(tasks, (n) => progress.note(`dtf up ${rep}/${ctx.reps}: ${n}/${tasks}`)));
        progress.step(`dtf up ${rep}/${ctx.reps}: ${dtf.samples[rep - 1].toFixed(1)} tasks/s`);
        bare.samples.push(await spawnRate(['true'], tasks, embeddedWorkers));
        progress.step(`spawn ${rep}/${ctx.reps}: ${bare.samples[rep - 1].toFixed(1)} procs/s`);
      }
    } finally {
      progress.finish();
    }
    return {
      status: 'ok',
      figures: [{ name: 'dtf up ÷ bare spawn', ratios: pairwiseRatio(dtf.samples, bare.samples), subject: dtf, baseline: bare }],
      notes: [`${tasks} tasks in one job; the ratio is the share of bare process spawning that survives DTF's per-task work (scheduling, log, worker bookkeeping, DuckDB)`],
    };
  },
};
