/**
 * Ticks and message dispatch: the term rules every message goes through
 * first, then the handler for the node's role.
 */
import { handleVoteRequest, handleVoteResponse, startElection, campaignNow } from './election';
import type { RaftNode } from './raft-node';
import { handleReadIndex, handleReadIndexResponse } from './read-index';
import {
  bcastHeartbeat,
  handleAppend,
  handleAppendResponse,
  handleHeartbeat,
  handleHeartbeatResponse,
} from './replication';
import { handleSnapshotChunk, handleSnapshotResponse } from './snapshot-transfer';
import { MessageType, noNode, type Message } from './types';

/** One tick of logical time. */
export function tickNode(r: RaftNode): void {
  r.ticks++;
  if (r.role === 'leader') tickLeader(r);
  else tickElection(r);
}

function tickElection(r: RaftNode): void {
  r.electionElapsed++;
  if (r.promotable() && r.electionElapsed >= r.randomizedElectionTimeout) {
    r.electionElapsed = 0;
    startElection(r);
  }
}

function tickLeader(r: RaftNode): void {
  r.heartbeatElapsed++;
  r.electionElapsed++;
  if (r.electionElapsed >= r.cfg.electionTicks) {
    r.electionElapsed = 0;
    if (r.cfg.checkQuorum && !quorumActive(r)) {
      // CheckQuorum: a leader that has not heard from a majority for an
      // election timeout steps down rather than serve a minority.
      r.becomeFollower(r.term, noNode);
      return;
    }
    if (r.leadTransferee !== noNode) r.leadTransferee = noNode; // The transfer timed out.
  }
  if (r.heartbeatElapsed >= r.cfg.heartbeatTicks) {
    r.heartbeatElapsed = 0;
    bcastHeartbeat(r, undefined);
  }
}

function quorumActive(r: RaftNode): boolean {
  let active = 0;
  for (const id of r.voters) {
    const pr = r.progress.get(id);
    if (id === r.id || pr?.recentActive) active++;
    if (pr && id !== r.id) pr.recentActive = false;
  }
  return active >= Math.floor(r.voters.size / 2) + 1;
}

const isVoteRequest = (t: MessageType): boolean => t === MessageType.VOTE || t === MessageType.PRE_VOTE;
const isFromLeader = (t: MessageType): boolean =>
  t === MessageType.APPEND || t === MessageType.HEARTBEAT || t === MessageType.SNAPSHOT;

/** Applies the term rules, then hands the message to its handler. */
export function stepMessage(r: RaftNode, m: Message): void {
  if (m.term > r.term) {
    if (isVoteRequest(m.type)) {
      // Leader lease: while a follower hears from a live leader it ignores
      // candidates, so a flapping node cannot depose a healthy leader.
      const inLease = r.cfg.checkQuorum && r.lead !== noNode && r.electionElapsed < r.cfg.electionTicks;
      if (inLease && !m.transfer) return;
    }
    const keepTerm =
      m.type === MessageType.PRE_VOTE || (m.type === MessageType.PRE_VOTE_RESPONSE && !m.reject);
    if (!keepTerm) r.becomeFollower(m.term, isFromLeader(m.type) ? m.from : noNode);
  } else if (m.term < r.term) {
    if ((r.cfg.checkQuorum || r.cfg.preVote) && (m.type === MessageType.APPEND || m.type === MessageType.HEARTBEAT)) {
      // A stale leader learns of the newer term from this answer; without it,
      // PreVote could leave it and a partitioned node each stuck.
      r.send({ type: MessageType.APPEND_RESPONSE, to: m.from });
    } else if (m.type === MessageType.PRE_VOTE) {
      r.send({ type: MessageType.PRE_VOTE_RESPONSE, to: m.from, reject: true });
    }
    return;
  }
  dispatch(r, m);
}

function dispatch(r: RaftNode, m: Message): void {
  switch (m.type) {
    case MessageType.PRE_VOTE:
    case MessageType.VOTE:
      return handleVoteRequest(r, m);
    case MessageType.PRE_VOTE_RESPONSE:
    case MessageType.VOTE_RESPONSE:
      return handleVoteResponse(r, m);
    case MessageType.APPEND:
    case MessageType.HEARTBEAT:
    case MessageType.SNAPSHOT:
      return stepFromLeader(r, m);
    case MessageType.APPEND_RESPONSE:
      return handleAppendResponse(r, m);
    case MessageType.HEARTBEAT_RESPONSE:
      return handleHeartbeatResponse(r, m);
    case MessageType.SNAPSHOT_RESPONSE:
      return handleSnapshotResponse(r, m);
    case MessageType.TIMEOUT_NOW:
      // Leadership transfer: campaign at once, skipping PreVote; the vote
      // requests say so, so that followers set their lease aside.
      if (r.role !== 'leader' && r.promotable()) campaignNow(r, true);
      return;
    case MessageType.READ_INDEX:
      return handleReadIndex(r, m);
    case MessageType.READ_INDEX_RESPONSE:
      return handleReadIndexResponse(r, m);
    default:
      return;
  }
}

function stepFromLeader(r: RaftNode, m: Message): void {
  if (r.role === 'leader') return; // Same term, two leaders: impossible; ignore.
  if (r.role !== 'follower') r.becomeFollower(m.term, m.from);
  r.electionElapsed = 0;
  r.lead = m.from;
  if (m.type === MessageType.APPEND) handleAppend(r, m);
  else if (m.type === MessageType.HEARTBEAT) handleHeartbeat(r, m);
  else handleSnapshotChunk(r, m);
}
