import { BenchChild } from '../child';
import type { Measure, Scenario } from '../scenario';
import { pairwiseRatio } from '../stats';

interface BacklogSample {
  rssBytes: number;
  costUs: number;
}

/**
 * Rounds (of 100 decisions) run before timing starts, so the code is compiled
 * and the heap settled. With 5, most timed rounds were still being optimised:
 * at both sizes the first rounds cost 5–20× the steady cost.
 */
const warmupRounds = 30;

async function sample(queued: number, decisions: number): Promise<BacklogSample> {
  const { child, ready } = await BenchChild.start('backlog-child.ts', [String(queued), String(decisions), String(warmupRounds)], ['--expose-gc', '--max-old-space-size=4096']);
  await child.stop();
  return { rssBytes: Number(ready.rssBytes), costUs: Number(ready.costUs) };
}

export const backlog: Scenario = {
  name: 'backlog',
  summary: "1,000,000 queued tasks in the coordinator's state: RSS, and per-decision scheduling cost at 100,000 and 1,000,000 queued vs at 1,000",
  async run(ctx) {
    const small = 1_000;
    const sizes = ctx.smoke ? [5_000, 20_000] : [100_000, 1_000_000];
    const decisions = ctx.smoke ? 500 : 20_000;
    const progress = ctx.progress((sizes.length + 1) * ctx.reps);
    const cost = (n: number): Measure => ({ label: `cost at ${n.toLocaleString('en-US')} queued`, unit: 'µs/decision', samples: [] });
    const rss = (n: number): Measure => ({ label: `RSS with ${n.toLocaleString('en-US')} queued`, unit: 'MiB', samples: [] });
    const smallCost = cost(small);
    const smallRss = rss(small);
    const bigCost = sizes.map(cost);
    const bigRss = sizes.map(rss);
    try {
      for (let rep = 1; rep <= ctx.reps; rep++) {
        for (const [i, n] of sizes.entries()) {
          const b = await sample(n, decisions);
          bigCost[i].samples.push(b.costUs);
          bigRss[i].samples.push(b.rssBytes / 2 ** 20);
          progress.step(`${n} queued ${rep}/${ctx.reps}: ${b.costUs.toFixed(1)} µs/decision, RSS ${(b.rssBytes / 2 ** 20).toFixed(0)} MiB`);
        }
        const s = await sample(small, decisions);
        smallCost.samples.push(s.costUs);
        smallRss.samples.push(s.rssBytes / 2 ** 20);
        progress.step(`${small} queued ${rep}/${ctx.reps}: ${s.costUs.toFixed(1)} µs/decision, RSS ${(s.rssBytes / 2 ** 20).toFixed(0)} MiB`);
      }
    } finally {
      progress.finish();
    }
    const last = sizes.length - 1;
    return {
      status: 'ok',
      figures: [
        ...sizes.map((n, i) => ({
          name: `decision cost, ${n.toLocaleString('en-US')} ÷ ${small.toLocaleString('en-US')} queued`,
          ratios: pairwiseRatio(bigCost[i].samples, smallCost.samples), subject: bigCost[i], baseline: smallCost, target: '≤ 1.5',
        })),
        { name: 'RSS, big ÷ small backlog', ratios: pairwiseRatio(bigRss[last].samples, smallRss.samples), subject: bigRss[last], baseline: smallRss, target: `big < 1024 MiB absolute` },
      ],
      notes: [
        `the backlog is built through the state machine's apply (as a log replay does), ${100} workers online, events released as a collector checkpoint would; RSS after a full GC`,
        `a decision is one placement by scheduleRound over the indexed ready queue (class → priority → tenant → job, each job a FIFO with a heap for tasks that arrive out of order) plus applying its AssignAttempts; ${decisions} decisions timed after ${warmupRounds} warm-up rounds, in a steady state (between rounds, untimed, the placed tasks finish and as many new ones are queued)`,
      ],
    };
  },
};
