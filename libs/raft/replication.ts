/**
 * Log replication: the leader's appends and heartbeats, the follower's
 * answers, and the leader's bookkeeping of those answers.
 */
import type { RaftNode } from './raft-node';
import { CompactedError } from './storage';
import { releaseReads } from './read-index';
import { sendSnapshotChunk, startSnapshot } from './snapshot-transfer';
import { MessageType, type Message, emptyBytes } from './types';

/** Sends appends to every follower that is not paused. */
export function bcastAppend(r: RaftNode): void {
  for (const id of r.progress.keys()) if (id !== r.id) sendAppend(r, id, true);
}

/**
 * Sends one append to `to`, or a snapshot when the entries it needs are
 * compacted. Returns false when nothing was sent (paused, or nothing new and
 * `sendIfEmpty` is false).
 */
export function sendAppend(r: RaftNode, to: number, sendIfEmpty: boolean): boolean {
  const pr = r.progress.get(to);
  if (!pr || pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  const prevTerm = r.log.term(prevIndex);
  let entries;
  try {
    entries = prevTerm === undefined ? undefined : r.log.entries(pr.next, r.log.lastIndex() + 1, r.cfg.entriesPerMessageBytesMax);
  } catch (e) {
    if (!(e instanceof CompactedError)) throw e;
  }
  if (prevTerm === undefined || entries === undefined) return startSnapshot(r, to);
  if (entries.length === 0 && !sendIfEmpty) return false;
  r.send({ type: MessageType.APPEND, to, index: prevIndex, logTerm: prevTerm, entries, commit: r.log.committed });
  pr.onEntriesSent(entries.length, prevIndex + entries.length);
  return true;
}

/** Sends a heartbeat to every follower; `context` tags a ReadIndex round. */
export function bcastHeartbeat(r: RaftNode, context: Uint8Array | undefined): void {
  for (const [id, pr] of r.progress) {
    if (id === r.id) continue;
    // Never tell a follower to commit past what it is known to hold.
    const commit = Math.min(pr.match, r.log.committed);
    r.send({ type: MessageType.HEARTBEAT, to: id, commit, context: context ?? emptyBytes });
  }
}

/** Follower: appends what matches, or rejects with a hint for fast backtracking. */
export function handleAppend(r: RaftNode, m: Message): void {
  if (m.index < r.log.committed) {
    r.send({ type: MessageType.APPEND_RESPONSE, to: m.from, index: r.log.committed });
    return;
  }
  const lastNew = r.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew !== undefined) {
    r.send({ type: MessageType.APPEND_RESPONSE, to: m.from, index: lastNew });
    return;
  }
  // Point the leader at the last entry whose term is at most the one it
  // asked about: every entry after that certainly conflicts.
  const hintIndex = r.log.findConflictByTerm(Math.min(m.index, r.log.lastIndex()), m.logTerm);
  r.send({
    type: MessageType.APPEND_RESPONSE,
    to: m.from,
    index: m.index,
    reject: true,
    rejectHint: hintIndex,
    logTerm: r.log.term(hintIndex) ?? 0,
  });
}

/** Follower: learns the commit index and answers (echoing any ReadIndex context). */
export function handleHeartbeat(r: RaftNode, m: Message): void {
  r.log.commitTo(Math.min(m.commit, r.log.lastIndex()));
  r.send({ type: MessageType.HEARTBEAT_RESPONSE, to: m.from, context: m.context });
}

/** Leader: records a follower's progress, commits, and sends what is next. */
export function handleAppendResponse(r: RaftNode, m: Message): void {
  if (r.role !== 'leader') return;
  const pr = r.progress.get(m.from);
  if (!pr) return;
  pr.recentActive = true;
  pr.activeAt = r.ticks;
  if (m.reject) {
    let nextProbe = m.rejectHint;
    if (m.logTerm > 0) nextProbe = r.log.findConflictByTerm(m.rejectHint, m.logTerm);
    if (pr.maybeDecrTo(m.index, nextProbe)) {
      if (pr.state === 'replicate') pr.becomeProbe();
      sendAppend(r, m.from, true);
    }
    return;
  }
  const wasPaused = pr.isPaused();
  if (!pr.maybeUpdate(m.index)) {
    if (wasPaused && pr.state === 'replicate') pr.freeInflightsTo(m.index);
    return;
  }
  if (pr.state === 'probe') pr.becomeReplicate();
  else if (pr.state === 'snapshot' && pr.match + 1 >= r.log.firstIndex()) pr.becomeProbe();
  else if (pr.state === 'replicate') pr.freeInflightsTo(m.index);
  if (r.maybeCommit()) {
    // Followers learn the new commit index in the next Ready's appends, so
    // several acknowledgements in one batch cost one broadcast.
    r.broadcastPending = true;
    releaseReads(r);
  }
  // Pipelining: keep sending while the window allows.
  while (sendAppend(r, m.from, false));
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) r.sendTimeoutNow(m.from);
}

/** Leader: the follower is alive; resume probing, continue a snapshot, count ReadIndex acks. */
export function handleHeartbeatResponse(r: RaftNode, m: Message): void {
  if (r.role !== 'leader') return;
  const pr = r.progress.get(m.from);
  if (!pr) return;
  pr.recentActive = true;
  pr.activeAt = r.ticks;
  pr.probeSent = false;
  if (pr.state === 'snapshot') sendSnapshotChunk(r, m.from, pr);
  else if (pr.state === 'replicate' && pr.inflights.length >= r.cfg.inflightMessagesMax) pr.inflights.shift();
  if (pr.match < r.log.lastIndex()) sendAppend(r, m.from, true);
  if (m.context.length > 0) r.readOnly.ack(m.from, m.context, r);
}
