import { BenchChild } from '../child';
import type { Measure, Scenario } from '../scenario';
import { pairwiseRatio } from '../stats';

interface BacklogSample {
  rssBytes: number;
  costUs: number;
}

async function sample(queued: number, decisions: number): Promise<BacklogSample> {
  const { child, ready } = await BenchChild.start('backlog-child.ts', [String(queued), String(decisions)], ['--expose-gc', '--max-old-space-size=4096']);
  await child.stop();
  return { rssBytes: Number(ready.rssBytes), costUs: Number(ready.costUs) };
}

export const backlog: Scenario = {
  name: 'backlog',
  summary: "1,000,000 queued tasks in the coordinator's state: RSS, and per-decision scheduling cost at 1,000,000 queued vs at 1,000",
  async run(ctx) {
    const big = ctx.smoke ? 20_000 : 1_000_000;
    const small = 1_000;
    const decisions = ctx.smoke ? 500 : 900;
    const progress = ctx.progress(2 * ctx.reps);
    const bigCost: Measure = { label: `cost at ${big} queued`, unit: 'µs/decision', samples: [] };
    const smallCost: Measure = { label: `cost at ${small} queued`, unit: 'µs/decision', samples: [] };
    const bigRss: Measure = { label: `RSS with ${big} queued`, unit: 'MiB', samples: [] };
    const smallRss: Measure = { label: `RSS with ${small} queued`, unit: 'MiB', samples: [] };
    try {
      for (let rep = 1; rep <= ctx.reps; rep++) {
        const b = await sample(big, decisions);
        bigCost.samples.push(b.costUs);
        bigRss.samples.push(b.rssBytes / 2 ** 20);
        progress.step(`${big} queued ${rep}/${ctx.reps}: ${b.costUs.toFixed(1)} µs/decision, RSS ${(b.rssBytes / 2 ** 20).toFixed(0)} MiB`);
        const s = await sample(small, decisions);
        smallCost.samples.push(s.costUs);
        smallRss.samples.push(s.rssBytes / 2 ** 20);
        progress.step(`${small} queued ${rep}/${ctx.reps}: ${s.costUs.toFixed(1)} µs/decision, RSS ${(s.rssBytes / 2 ** 20).toFixed(0)} MiB`);
      }
    } finally {
      progress.finish();
    }
    return {
      status: 'ok',
      figures: [
        { name: 'decision cost, big ÷ small backlog', ratios: pairwiseRatio(bigCost.samples, smallCost.samples), subject: bigCost, baseline: smallCost, target: '≤ 1.5' },
        { name: 'RSS, big ÷ small backlog', ratios: pairwiseRatio(bigRss.samples, smallRss.samples), subject: bigRss, baseline: smallRss, target: `big < 1024 MiB absolute` },
      ],
      notes: [
        `the backlog is built through the state machine's apply (as a log replay does), ${100} workers online, events released as a collector checkpoint would; RSS after a full GC`,
        `a decision is one placement of a pending task on a free worker plus applying its AssignAttempts; ${decisions} decisions timed`,
      ],
    };
  },
};
