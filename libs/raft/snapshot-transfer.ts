/**
 * InstallSnapshot in chunks (the design's sync_state). The leader sends one
 * chunk at a time and waits for the follower to say which byte it expects
 * next; a lost chunk is resent on the next heartbeat answer. The follower
 * assembles the chunks and installs the snapshot when the last one arrives.
 */
import type { Progress } from './progress';
import type { RaftNode } from './raft-node';
import { MessageType, type Message, type Snapshot, type SnapshotMetadata } from './types';

/** A snapshot being received: its metadata and the chunks so far. */
export interface IncomingSnapshot {
  metadata: SnapshotMetadata;
  chunks: Uint8Array[];
  bytes: number;
}

/** Leader: switches `to` to snapshot state and sends the first chunk. */
export function startSnapshot(r: RaftNode, to: number): boolean {
  const pr = r.progress.get(to);
  const snap = r.log.snapshot();
  if (!pr || snap.metadata.index === 0) return false; // Nothing to send yet; retry later.
  pr.becomeSnapshot(snap);
  sendSnapshotChunk(r, to, pr);
  return true;
}

/** Leader: (re)sends the chunk at the follower's expected offset. */
export function sendSnapshotChunk(r: RaftNode, to: number, pr: Progress): void {
  const snap = pr.snapshot;
  if (!snap) return;
  const end = Math.min(snap.data.length, pr.snapshotOffset + r.cfg.snapshotChunkBytesMax);
  r.send({
    type: MessageType.SNAPSHOT,
    to,
    snapshot: snap.metadata,
    chunkOffset: pr.snapshotOffset,
    chunkData: snap.data.subarray(pr.snapshotOffset, end),
    chunkLast: end >= snap.data.length,
  });
}

/** Leader: moves the transfer on, or back to appends once it is installed. */
export function handleSnapshotResponse(r: RaftNode, m: Message): void {
  if (r.role !== 'leader') return;
  const pr = r.progress.get(m.from);
  if (!pr || pr.state !== 'snapshot' || !pr.snapshot || m.index !== pr.snapshot.metadata.index) return;
  pr.recentActive = true;
  pr.activeAt = r.ticks;
  if (m.chunkLast) {
    // Installed (or not needed): carry on with appends after the snapshot.
    pr.becomeProbe();
    pr.maybeUpdate(m.index);
    pr.becomeProbe();
    r.broadcastPending = true;
    return;
  }
  if (m.chunkOffset === pr.snapshotOffset && m.chunkOffset !== 0) return; // Duplicate answer.
  pr.snapshotOffset = m.chunkOffset;
  sendSnapshotChunk(r, m.from, pr);
}

function sameSnapshot(a: SnapshotMetadata, b: SnapshotMetadata): boolean {
  return a.index === b.index && a.term === b.term;
}

/** Follower: takes a chunk, answers with the next offset it wants. */
export function handleSnapshotChunk(r: RaftNode, m: Message): void {
  const meta = m.snapshot;
  if (!meta) return;
  const answer = (chunkOffset: number, done: boolean): void =>
    r.send({ type: MessageType.SNAPSHOT_RESPONSE, to: m.from, index: meta.index, chunkOffset, chunkLast: done });
  if (meta.index <= r.log.committed) {
    r.incomingSnapshot = undefined;
    return answer(0, true); // Already have it all: the leader should resume appends.
  }
  let inc = r.incomingSnapshot;
  if (m.chunkOffset === 0) inc = r.incomingSnapshot = { metadata: meta, chunks: [], bytes: 0 };
  if (!inc || !sameSnapshot(inc.metadata, meta) || m.chunkOffset !== inc.bytes) {
    return answer(inc && sameSnapshot(inc.metadata, meta) ? inc.bytes : 0, false);
  }
  inc.chunks.push(m.chunkData.slice());
  inc.bytes += m.chunkData.length;
  if (!m.chunkLast) return answer(inc.bytes, false);
  r.incomingSnapshot = undefined;
  const data = new Uint8Array(inc.bytes);
  let at = 0;
  for (const c of inc.chunks) {
    data.set(c, at);
    at += c.length;
  }
  restoreSnapshot(r, { metadata: meta, data });
  answer(inc.bytes, true);
}

/** Follower: replaces the log by the snapshot unless the log already covers it. */
function restoreSnapshot(r: RaftNode, snap: Snapshot): void {
  const { index, term } = snap.metadata;
  if (r.log.matchTerm(index, term)) {
    // Our log has the snapshot's last entry, so it has everything before it.
    r.log.commitTo(index);
    return;
  }
  r.log.restore(snap);
  r.voters = new Set(snap.metadata.confState.voters);
  r.confApplied = index;
  r.progress.clear();
  for (const id of r.voters) r.addProgress(id);
}
