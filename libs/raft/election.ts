/** Elections: PreVote, Vote, and the tallies that end them. */
import { voteResult } from './quorum';
import type { RaftNode } from './raft-node';
import { MessageType, noNode, type Message } from './types';

/** Starts an election after a timeout: a PreVote round first when enabled. */
export function startElection(r: RaftNode): void {
  if (r.cfg.preVote) campaignPre(r);
  else campaignNow(r, false);
}

function campaignPre(r: RaftNode): void {
  r.becomePreCandidate();
  r.votes.set(r.id, true);
  if (voteResult(r.voters, r.votes) === 'won') return campaignNow(r, false);
  for (const id of r.voters) {
    if (id === r.id) continue;
    r.send({
      type: MessageType.PRE_VOTE,
      to: id,
      term: r.term + 1,
      index: r.log.lastIndex(),
      logTerm: r.log.lastTerm(),
    });
  }
}

/** Becomes a candidate for the next term and asks every voter. */
export function campaignNow(r: RaftNode, transfer: boolean): void {
  r.becomeCandidate();
  r.votes.set(r.id, true);
  if (voteResult(r.voters, r.votes) === 'won') return r.becomeLeader();
  for (const id of r.voters) {
    if (id === r.id) continue;
    r.send({ type: MessageType.VOTE, to: id, index: r.log.lastIndex(), logTerm: r.log.lastTerm(), transfer });
  }
}

/** Answers a (pre-)vote request whose term is not below ours. */
export function handleVoteRequest(r: RaftNode, m: Message): void {
  const pre = m.type === MessageType.PRE_VOTE;
  const respType = pre ? MessageType.PRE_VOTE_RESPONSE : MessageType.VOTE_RESPONSE;
  const canVote =
    r.vote === m.from ||
    (r.vote === noNode && r.lead === noNode) ||
    (pre && m.term > r.term);
  if (canVote && r.log.isUpToDate(m.index, m.logTerm)) {
    // A granted answer carries the candidate's term: for PreVote that is a
    // term we have not entered, and the candidate must recognise its answer.
    r.send({ type: respType, to: m.from, term: m.term });
    if (!pre) {
      r.electionElapsed = 0;
      r.vote = m.from;
    }
  } else {
    r.send({ type: respType, to: m.from, reject: true });
  }
}

/** Counts an answer; wins or loses the election when the tally decides. */
export function handleVoteResponse(r: RaftNode, m: Message): void {
  const expected = r.role === 'pre-candidate' ? MessageType.PRE_VOTE_RESPONSE : MessageType.VOTE_RESPONSE;
  if ((r.role !== 'pre-candidate' && r.role !== 'candidate') || m.type !== expected) return;
  r.votes.set(m.from, !m.reject);
  const result = voteResult(r.voters, r.votes);
  if (result === 'won') {
    if (r.role === 'pre-candidate') campaignNow(r, false);
    else r.becomeLeader();
  } else if (result === 'lost') {
    r.becomeFollower(r.term, noNode);
  }
}
