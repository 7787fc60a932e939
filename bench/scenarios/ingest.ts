import { feedIngestRate, rawAppenderRate } from '../ingest-rate';
import type { Measure, Scenario } from '../scenario';
import { pairwiseRatio } from '../stats';

export const ingest: Scenario = {
  name: 'ingest',
  summary: 'results/s from the committed feed into DuckDB (collector tailing a coordinator in another process over gRPC, and in-process as in dtf up), beside the raw DuckDB Appender rate',
  async run(ctx) {
    const results = ctx.smoke ? 5_000 : 100_000;
    // Past the write-ahead log size at which DuckDB checkpoints inside a commit (64 MiB, ~400,000 results).
    const longResults = ctx.smoke ? 10_000 : 500_000;
    const progress = ctx.progress(4 * ctx.reps);
    const feed: Measure = { label: 'feed → DuckDB', unit: 'results/s', samples: [] };
    const local: Measure = { label: 'in-process feed → DuckDB', unit: 'results/s', samples: [] };
    const long: Measure = { label: `in-process feed → DuckDB, ${longResults.toLocaleString('en-US')} results`, unit: 'results/s', samples: [] };
    const raw: Measure = { label: 'DuckDB Appender', unit: 'rows/s', samples: [] };
    try {
      for (let rep = 1; rep <= ctx.reps; rep++) {
        feed.samples.push(await feedIngestRate(results, 'grpc', (n) => progress.note(`feed ${rep}/${ctx.reps}: event ${n}`)));
        progress.step(`feed ${rep}/${ctx.reps}: ${Math.round(feed.samples[rep - 1])} results/s`);
        local.samples.push(await feedIngestRate(results, 'in-process', (n) => progress.note(`in-process feed ${rep}/${ctx.reps}: event ${n}`)));
        progress.step(`in-process feed ${rep}/${ctx.reps}: ${Math.round(local.samples[rep - 1])} results/s`);
        long.samples.push(await feedIngestRate(longResults, 'in-process', (n) => progress.note(`in-process feed, ${longResults} results ${rep}/${ctx.reps}: event ${n}`)));
        progress.step(`in-process feed, ${longResults} results ${rep}/${ctx.reps}: ${Math.round(long.samples[rep - 1])} results/s`);
        raw.samples.push(await rawAppenderRate(results));
        progress.step(`appender ${rep}/${ctx.reps}: ${Math.round(raw.samples[rep - 1])} rows/s`);
      }
    } finally {
      progress.finish();
    }
    return {
      status: 'ok',
      figures: [
        { name: 'feed ingest ÷ raw Appender', ratios: pairwiseRatio(feed.samples, raw.samples), subject: feed, baseline: raw, target: '≥ 100,000 results/s absolute' },
        { name: 'in-process feed ingest ÷ raw Appender', ratios: pairwiseRatio(local.samples, raw.samples), subject: local, baseline: raw, target: '≥ 100,000 results/s absolute' },
        { name: `in-process feed ingest, ${longResults.toLocaleString('en-US')} results ÷ raw Appender`, ratios: pairwiseRatio(long.samples, raw.samples), subject: long, baseline: raw },
      ],
      notes: [`${results} finished no-op attempts (about 3 events each: started, finished, task finished) prepared in the log, then one collector started on an empty DuckDB file and timed from its first read of the feed (after it created the file and its tables) until it stored the last event`,
        'feed: the collector (this process) tails a coordinator in a child process over gRPC, as `dtf results --coordinator` does; in-process feed: as `dtf up` runs it, no encoding',
        `checkpoints: 100,000 results fill ~16 MiB of DuckDB's write-ahead log; DuckDB checkpoints inside a commit only past 64 MiB, and the collector checkpoints once the feed is quiet, after the timed burst; the ${longResults.toLocaleString('en-US')}-result run goes past 64 MiB and so includes one in-line checkpoint`,
      ],
    };
  },
};
