/**
 * What a leader knows about one follower's log, and how it sends to it.
 *
 * - probe: the leader does not know where the logs match; it sends one append
 *   at a time and waits for the answer (or a heartbeat response) before the
 *   next, backing off through rejections.
 * - replicate: the logs match up to `match`; the leader streams appends
 *   optimistically (pipelining), at most `inflightMessagesMax` unanswered.
 * - snapshot: the follower needs a snapshot; appends pause until the chunked
 *   transfer finishes.
 */
import type { Snapshot } from './types';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** Replication state of one peer, kept by the leader. */
export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In probe state: an append is out and unanswered, so wait. */
  probeSent = false;
  /** Last index of each unanswered append in replicate state, oldest first. */
  inflights: number[] = [];
  /** Heard from within the current CheckQuorum window. */
  recentActive = false;
  /** The leader's `ticks` when it last heard from this peer: the lease for lease reads. */
  activeAt = Number.NEGATIVE_INFINITY;
  /** The snapshot being sent in snapshot state, and the next byte to send. */
  snapshot: Snapshot | undefined = undefined;
  snapshotOffset = 0;

  constructor(
    next: number,
    private readonly inflightMessagesMax: number,
  ) {
    this.next = next;
  }

  /** Moves to probe; after a snapshot, resume right after it. */
  becomeProbe(): void {
    const snapIndex = this.state === 'snapshot' && this.snapshot ? this.snapshot.metadata.index : 0;
    this.state = 'probe';
    this.probeSent = false;
    this.inflights = [];
    this.snapshot = undefined;
    this.snapshotOffset = 0;
    this.next = Math.max(this.match + 1, snapIndex + 1);
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.probeSent = false;
    this.inflights = [];
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshot: Snapshot): void {
    this.state = 'snapshot';
    this.probeSent = false;
    this.inflights = [];
    this.snapshot = snapshot;
    this.snapshotOffset = 0;
  }

  /** Records an acknowledged index; false when it tells nothing new. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * Handles a rejected append for `rejected` (the prevIndex it carried), with
   * the follower's hint of where the logs may match. False when the rejection
   * is stale (an answer to an append sent before a later decision).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  /** Bookkeeping after an append carrying entries up to `lastIndex` was sent. */
  onEntriesSent(entryCount: number, lastIndex: number): void {
    if (entryCount === 0) return;
    if (this.state === 'replicate') {
      this.next = lastIndex + 1;
      this.inflights.push(lastIndex);
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  /** Forgets in-flight appends up to and including `index`: they were answered. */
  freeInflightsTo(index: number): void {
    let n = 0;
    while (n < this.inflights.length && this.inflights[n] <= index) n++;
    if (n > 0) this.inflights.splice(0, n);
  }

  /** True when the leader should not send appends now. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.length >= this.inflightMessagesMax;
      case 'snapshot':
        return true;
    }
  }
}
