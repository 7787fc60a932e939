import { benchRaftThroughput, benchStorageCeiling, outstandingProposalsMax, proposalBytes, raftBenchDurationMs } from '../raft-throughput';
import type { Measure, Scenario } from '../scenario';
import { pairwiseRatio } from '../stats';

export const raft: Scenario = {
  name: 'raft',
  summary: `committed proposals/s through an in-process 3-node Raft cluster on FileStorage vs appending+fsyncing the same ${proposalBytes}-byte entries to one FileStorage in batches of ${outstandingProposalsMax}`,
  async run(ctx) {
    const progress = ctx.progress(2 * ctx.reps);
    const cluster: Measure = { label: 'raft, 3 nodes, file storage', unit: 'proposals/s', samples: [] };
    const disk: Measure = { label: `FileStorage append+fsync ×${outstandingProposalsMax}`, unit: 'entries/s', samples: [] };
    try {
      for (let rep = 1; rep <= ctx.reps; rep++) {
        progress.note(`raft ${rep}/${ctx.reps}`);
        cluster.samples.push(await benchRaftThroughput({ smoke: ctx.smoke }));
        progress.step(`raft ${rep}/${ctx.reps}: ${Math.round(cluster.samples[rep - 1])} proposals/s`);
        progress.note(`storage ${rep}/${ctx.reps}`);
        disk.samples.push(benchStorageCeiling({ smoke: ctx.smoke }));
        progress.step(`storage ${rep}/${ctx.reps}: ${Math.round(disk.samples[rep - 1])} entries/s`);
      }
    } finally {
      progress.finish();
    }
    return {
      status: 'ok',
      figures: [{ name: 'raft proposals/s ÷ storage append+fsync entries/s', ratios: pairwiseRatio(cluster.samples, disk.samples), subject: cluster, baseline: disk }],
      notes: [
        `${raftBenchDurationMs(ctx.smoke)} ms per measurement; up to ${outstandingProposalsMax} proposals outstanding, each ${proposalBytes} bytes`,
        'all three nodes write and fsync their own log on the same disk, one after another in one thread, so a ratio near 1/3 means consensus costs little beyond the fsyncs',
      ],
    };
  },
};
