/**
 * A DuckDB transaction costs about 20 ms however few rows it carries (commit,
 * one UPDATE per table, staging), so writing every feed message as it comes
 * spends most of the collector's CPU on that fixed cost (140 batches of ~400
 * events for 20,000 tasks, against 24 of ~2,500 with these bounds). A batch
 * therefore lingers for more events, up to this long after the previous
 * batch started…
 */
export const batchLingerMs = 250;
/** …unless this many events are already waiting (also the most one transaction takes)… */
export const batchEventsTarget = 60_000;
/**
 * …or the feed has been silent this long: the burst is over, so waiting gains
 * nothing. It must outlast the gaps between a busy coordinator's commits
 * (tens of ms), or batches end at every gap and stay small.
 */
export const feedQuietMs = 50;

/**
 * Decides when the collector's next batch should be written. A lone event
 * after a quiet spell is written at once; under load, batches grow to what
 * arrives in {@link batchLingerMs}, so the fixed cost per transaction is
 * shared by thousands of events instead of a few hundred. When the feed
 * says the coordinator has gone idle, nothing more is coming to wait for:
 * the last results of a run are written at once, not {@link feedQuietMs}
 * later.
 */
export class BatchPacer {
  private lastStartMs = Number.NEGATIVE_INFINITY;
  private lastEventsMs = Number.NEGATIVE_INFINITY;
  private idle = false;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Notes that events arrived from the feed; `idle`: the feed said the coordinator had nothing queued or running. */
  arrived(idle = false): void {
    this.lastEventsMs = this.now();
    this.idle = idle;
  }

  /** Whether the last feed message said the coordinator had nothing queued or running. */
  get coordinatorIdle(): boolean {
    return this.idle;
  }

  /** Notes that a batch is being written now. */
  started(): void {
    this.lastStartMs = this.now();
  }

  /** Milliseconds to wait before writing `waiting` events; 0 means write now. */
  delayMs(waiting: number): number {
    if (waiting >= batchEventsTarget || this.idle) return 0;
    const now = this.now();
    const dueMs = Math.min(this.lastStartMs + batchLingerMs, this.lastEventsMs + feedQuietMs);
    return Math.max(0, dueMs - now);
  }
}
