import { attemptTimeoutMs, electionTimeoutMinMs, failoverTickMs, measureFailover, measureSubmitRate, outstandingSubmissionsMax } from '../failover';
import type { Measure, Scenario } from '../scenario';
import { pairwiseRatio, summarize } from '../stats';

/** Trials of the failover figure (the issue asks for at least 20). */
export const failoverTrials = 20;

export const failover: Scenario = {
  name: 'failover',
  summary: `kill -9 of the leader of 3 coordinator processes → first acknowledged submission (${failoverTrials} trials), against the election timeout; and submissions/s with 3 coordinators against 1`,
  async run(ctx) {
    const trials = ctx.smoke ? 3 : failoverTrials;
    const rateMs = ctx.smoke ? 500 : 3000;
    const progress = ctx.progress(trials + 2 * ctx.reps);
    const failoverMs: Measure = { label: 'kill -9 of the leader → first acknowledged submission', unit: 'ms', samples: [] };
    const timeout: Measure = { label: `election timeout (10 ticks of ${failoverTickMs} ms)`, unit: 'ms', samples: [] };
    const three: Measure = { label: '3 coordinators (Raft)', unit: 'submissions/s', samples: [] };
    const one: Measure = { label: '1 coordinator (local log)', unit: 'submissions/s', samples: [] };
    try {
      failoverMs.samples = await measureFailover(trials, (i, ms) => progress.step(`trial ${i + 1}/${trials}: ${Math.round(ms)} ms`));
      timeout.samples = failoverMs.samples.map(() => electionTimeoutMinMs);
      for (let rep = 1; rep <= ctx.reps; rep++) {
        three.samples.push(await measureSubmitRate(3, rateMs));
        progress.step(`3 members ${rep}/${ctx.reps}: ${Math.round(three.samples[rep - 1])}/s`);
        one.samples.push(await measureSubmitRate(1, rateMs));
        progress.step(`1 member ${rep}/${ctx.reps}: ${Math.round(one.samples[rep - 1])}/s`);
      }
    } finally {
      progress.finish();
    }
    const f = summarize(failoverMs.samples);
    return {
      status: 'ok',
      figures: [
        { name: 'failover time ÷ election timeout', ratios: pairwiseRatio(failoverMs.samples, timeout.samples), subject: failoverMs, baseline: timeout },
        { name: '3 coordinators ÷ 1 (submissions/s)', ratios: pairwiseRatio(three.samples, one.samples), subject: three, baseline: one },
      ],
      notes: [
        `failover over ${trials} trials: median ${Math.round(f.median)} ms, p99 ${Math.round(percentile(failoverMs.samples, 0.99))} ms, max ${Math.round(f.max)} ms; the client tries each surviving member with a ${attemptTimeoutMs} ms timeout`,
        `submissions: ${outstandingSubmissionsMax} outstanding for ${rateMs} ms, one task each, no workers; all processes share this machine's cores`,
      ],
    };
  },
};

/** The nearest-rank percentile. */
function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}
