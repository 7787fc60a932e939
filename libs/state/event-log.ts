import type { Event } from '../gen/dtf/result/v1/result_service_pb';

/** The event kinds, as the oneof of {@link Event}. */
export type EventKind = Event['kind'];

/**
 * Events older than the collector's checkpoint are released; if the collector
 * stays away this long, the oldest are dropped (and counted) rather than let
 * the coordinator run out of memory.
 */
export const eventsRetainedMax = 2_000_000;

/**
 * The committed-event feed: what applying log entries did, numbered 1, 2, 3…
 * Numbering is part of the deterministic state, so a replay of the same log
 * numbers every event the same way and the collector can resume by number.
 */
export class EventLog {
  private events: Event[] = [];
  private firstSeq = 1n;
  private lastSeq = 0n;
  private entryTimeMs = 0n;
  /** Events dropped because the collector fell too far behind. */
  dropped = 0;
  /** Called after events are appended; set by the host, not part of the state. */
  onAppend: (() => void) | undefined;

  /** Marks the start of a log entry's events. */
  beginEntry(timeMs: bigint): void {
    this.entryTimeMs = timeMs;
  }

  push(kind: EventKind): void {
    this.lastSeq++;
    this.events.push({ $typeName: 'dtf.result.v1.Event', index: this.lastSeq, timeMs: this.entryTimeMs, kind });
    if (this.events.length > eventsRetainedMax) {
      this.events.shift();
      this.firstSeq++;
      this.dropped++;
    }
    this.onAppend?.();
  }

  /** Number of the newest event (0 when none). */
  get last(): bigint {
    return this.lastSeq;
  }

  /** Number of the oldest event still held. */
  get first(): bigint {
    return this.firstSeq;
  }

  /** Up to `max` events numbered above `after`, oldest first. */
  after(after: bigint, max: number): Event[] {
    const from = after < this.firstSeq - 1n ? 0 : Number(after - this.firstSeq + 1n);
    return this.events.slice(from, from + max);
  }

  /** The held events and counters, to restore with {@link EventLog.restore}. */
  image(): { events: Event[]; first: bigint; last: bigint; dropped: number } {
    return { events: this.events.slice(), first: this.firstSeq, last: this.lastSeq, dropped: this.dropped };
  }

  /** Replaces the feed with a snapshot's (see libs/state/state-snapshot.ts). */
  restore(img: { events: Event[]; first: bigint; last: bigint; dropped: number }): void {
    this.events = img.events.slice();
    this.firstSeq = img.first;
    this.lastSeq = img.last;
    this.dropped = img.dropped;
  }

  /** Forgets events up to and including `seq`: the collector has stored them. */
  releaseThrough(seq: bigint): void {
    if (seq < this.firstSeq) return;
    const n = Number((seq > this.lastSeq ? this.lastSeq : seq) - this.firstSeq + 1n);
    this.events.splice(0, n);
    this.firstSeq += BigInt(n);
  }
}
