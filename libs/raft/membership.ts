/**
 * Single-server membership changes. A change takes effect on a node when
 * that node applies its entry; the leader accepts a new change only once the
 * previous one is applied, so two configurations in play always share a
 * majority. A leader that removes itself hands over with TimeoutNow and
 * steps down.
 */
import { decodeConfChange, encodeConfChange } from './codec';
import type { ProposeResult, RaftNode } from './raft-node';
import type { RaftLog } from './raft-log';
import { ConfChangeType, EntryType, noNode, type ConfChange } from './types';

/** Leader: appends a membership change if none is pending and it changes something. */
export function proposeConfChange(r: RaftNode, cc: ConfChange): ProposeResult {
  if (r.role !== 'leader') return { ok: false, reason: 'not-leader', lead: r.lead };
  if (r.pendingConfIndex > r.log.applied) return { ok: false, reason: 'conf-change-pending', lead: r.lead };
  const isVoter = r.voters.has(cc.nodeId);
  const changes =
    (cc.type === ConfChangeType.ADD_VOTER && !isVoter) ||
    (cc.type === ConfChangeType.REMOVE_VOTER && isVoter && r.voters.size > 1);
  if (!changes || cc.nodeId <= 0) return { ok: false, reason: 'no-op', lead: r.lead };
  const result = r.appendProposal(EntryType.CONF_CHANGE, encodeConfChange(cc));
  if (result.ok) r.pendingConfIndex = result.index;
  return result;
}

/** The decoded membership changes among entries [lo, hi] of the log. */
export function confEntriesIn(log: RaftLog, lo: number, hi: number): ConfChange[] {
  if (hi < lo) return [];
  return log
    .entries(lo, hi + 1, Number.MAX_SAFE_INTEGER)
    .filter((e) => e.type === EntryType.CONF_CHANGE)
    .map((e) => decodeConfChange(e.data));
}

/** Applies a change to the voter set; `restarting` skips leader-only effects. */
export function applyConfChange(r: RaftNode, cc: ConfChange, restarting: boolean): void {
  if (cc.type === ConfChangeType.ADD_VOTER) {
    if (r.voters.has(cc.nodeId)) return;
    r.voters.add(cc.nodeId);
    r.addProgress(cc.nodeId);
  } else if (cc.type === ConfChangeType.REMOVE_VOTER) {
    r.voters.delete(cc.nodeId);
    r.progress.delete(cc.nodeId);
    if (r.leadTransferee === cc.nodeId) r.leadTransferee = noNode;
  }
  if (restarting || r.role !== 'leader') return;
  if (!r.voters.has(r.id)) return stepDownRemoved(r);
  // A smaller quorum may commit what the old one could not.
  if (r.maybeCommit()) r.broadcastPending = true;
}

/** A removed leader hands over to its most up-to-date peer, then follows. */
function stepDownRemoved(r: RaftNode): void {
  let best = noNode;
  let bestMatch = -1;
  for (const id of r.voters) {
    const m = r.progress.get(id)?.match ?? 0;
    if (m > bestMatch) [best, bestMatch] = [id, m];
  }
  if (best !== noNode && bestMatch === r.log.lastIndex()) r.sendTimeoutNow(best);
  r.becomeFollower(r.term, noNode);
}
