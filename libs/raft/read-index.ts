/**
 * Linearizable reads. ReadIndex: the leader notes its commit index, confirms
 * it still leads with a heartbeat round tagged with the request's context,
 * and answers with that index; the reader serves the read once it has
 * applied that far. With readOnly 'lease' the heartbeat round is skipped and
 * the CheckQuorum lease trusted instead.
 */
import { majority } from './quorum';
import type { RaftNode } from './raft-node';
import { bcastHeartbeat } from './replication';
import { MessageType, noNode, type Message } from './types';

interface ReadRequest {
  key: string;
  index: number;
  from: number;
  context: Uint8Array;
  acks: Set<number>;
}

const keyOf = (c: Uint8Array): string => Buffer.from(c.buffer, c.byteOffset, c.byteLength).toString('latin1');

/** The leader's queue of reads awaiting heartbeat confirmation. */
export class ReadOnly {
  /** Reads waiting for the leader's first commit in its term. */
  waitingForCommit: { from: number; context: Uint8Array }[] = [];
  private queue: ReadRequest[] = [];

  constructor(private readonly pendingMax: number) {}

  clear(): void {
    this.waitingForCommit = [];
    this.queue = [];
  }

  full(): boolean {
    return this.queue.length + this.waitingForCommit.length >= this.pendingMax;
  }

  add(index: number, from: number, context: Uint8Array, self: number): void {
    this.queue.push({ key: keyOf(context), index, from, context, acks: new Set([self]) });
  }

  /** Counts a heartbeat answer; releases every read up to the confirmed one. */
  ack(from: number, context: Uint8Array, r: RaftNode): void {
    const key = keyOf(context);
    const at = this.queue.findIndex((q) => q.key === key);
    if (at < 0) return;
    const req = this.queue[at];
    if (r.voters.has(from)) req.acks.add(from);
    let confirmed = 0;
    for (const id of req.acks) if (r.voters.has(id)) confirmed++;
    if (confirmed < majority(r.voters.size)) return;
    // Confirming a later read confirms the earlier ones: leadership held then.
    for (const q of this.queue.splice(0, at + 1)) respond(r, q.from, q.index, q.context);
  }
}

function respond(r: RaftNode, to: number, index: number, context: Uint8Array): void {
  if (to === r.id) r.readStates.push({ index, context });
  else r.send({ type: MessageType.READ_INDEX_RESPONSE, to, index, context });
}

/**
 * Lease reads: a quorum acknowledged this leader within the last election
 * timeout less one tick (a follower's timer may tick just after it hears
 * from us), so no follower of that quorum votes for another leader yet. The
 * CheckQuorum step-down alone is not enough: it looks back over a whole
 * check window, so it may come up to two election timeouts after the
 * quorum's last word. During a transfer the target campaigns through the
 * followers' leases, so the lease is void. Without the lease, reads take
 * the ReadIndex round.
 */
function leaseHeld(r: RaftNode): boolean {
  if (r.leadTransferee !== noNode) return false;
  let fresh = 0;
  for (const id of r.voters) {
    const pr = r.progress.get(id);
    if (id === r.id || (pr && r.ticks - pr.activeAt < r.cfg.electionTicks - 1)) fresh++;
  }
  return fresh >= majority(r.voters.size);
}

/** Handles a read for `from` (this node or a follower) on any node. */
export function requestReadIndex(r: RaftNode, from: number, context: Uint8Array): void {
  if (r.role !== 'leader') {
    // Forward to the leader; with no leader the read is dropped and the
    // client retries, as with any lost message.
    if (from === r.id && r.lead !== noNode) r.send({ type: MessageType.READ_INDEX, to: r.lead, context });
    return;
  }
  if (r.readOnly.full()) return;
  if (r.log.term(r.log.committed) !== r.term) {
    // Until an entry of its own term commits, the leader does not know the
    // true commit index.
    r.readOnly.waitingForCommit.push({ from, context });
    return;
  }
  if (r.voters.size === 1 || (r.cfg.readOnly === 'lease' && leaseHeld(r))) return respond(r, from, r.log.committed, context);
  r.readOnly.add(r.log.committed, from, context, r.id);
  bcastHeartbeat(r, context);
}

/** Leader: serves reads that waited for the first commit of the term. */
export function releaseReads(r: RaftNode): void {
  if (r.readOnly.waitingForCommit.length === 0 || r.log.term(r.log.committed) !== r.term) return;
  const waiting = r.readOnly.waitingForCommit;
  r.readOnly.waitingForCommit = [];
  for (const w of waiting) requestReadIndex(r, w.from, w.context);
}

export function handleReadIndex(r: RaftNode, m: Message): void {
  if (r.role === 'leader' && r.voters.has(m.from)) requestReadIndex(r, m.from, m.context);
}

export function handleReadIndexResponse(r: RaftNode, m: Message): void {
  if (r.role === 'follower' && m.from === r.lead) r.readStates.push({ index: m.index, context: m.context });
}
