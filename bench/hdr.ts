import * as hdr from 'hdr-histogram-js';

/** Slowest latency a histogram records: one minute, in microseconds. */
export const latencyUsMax = 60_000_000;

/** Percentiles of one latency distribution, in milliseconds. */
export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

/** An HDR histogram of latencies recorded in milliseconds, kept in microseconds with 3 significant digits. */
export class LatencyHistogram {
  private readonly h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: latencyUsMax, numberOfSignificantValueDigits: 3 });

  record(ms: number): void {
    this.h.recordValue(Math.min(latencyUsMax, Math.max(1, Math.round(ms * 1000))));
  }

  summary(): LatencySummary {
    return {
      p50: this.h.getValueAtPercentile(50) / 1000,
      p99: this.h.getValueAtPercentile(99) / 1000,
      max: this.h.maxValue / 1000,
      count: this.h.totalCount,
    };
  }
}

/** Calls `fire` `ratePerSec` times a second for `durationMs`, open loop: it never waits for earlier calls. */
export async function steadyRate(ratePerSec: number, durationMs: number, fire: (i: number) => void): Promise<number> {
  const tickMs = 10;
  const perTick = (ratePerSec * tickMs) / 1000;
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < durationMs) {
    const due = Math.floor(((performance.now() - start) / tickMs + 1) * perTick);
    while (sent < due) fire(sent++);
    await new Promise((r) => setTimeout(r, tickMs));
  }
  return sent;
}
