/**
 * Raft's safety properties, checked as the simulation runs. Each failure
 * throws an InvariantViolation that names the property and the evidence.
 */
import type { RaftNode } from '../../libs/raft/raft-node';
import type { Entry } from '../../libs/raft/types';

export class InvariantViolation extends Error {}

/** Entry data is shared by reference between simulated nodes, so its encoding is cached. */
const dataText = new WeakMap<Uint8Array, string>();

function fingerprint(e: Entry): string {
  let text = dataText.get(e.data);
  if (text === undefined) dataText.set(e.data, (text = Buffer.from(e.data).toString('base64')));
  return `${e.term}/${e.type}/${text}`;
}

/** Watches leaders, applied entries and logs of every node in one cluster. */
export class InvariantChecker {
  private leaderOfTerm = new Map<number, number>();
  /** Every entry any node applied, by index: the state machines' common history. */
  private applied = new Map<number, string>();
  /**
   * For each applied index: the entry's term, and the applying node's term
   * when it was first applied. The entry was committed in a term no later
   * than that, which is what leader completeness is stated over.
   */
  private appliedTerm = new Map<number, { term: number; commitTermMax: number }>();

  /** Election safety: at most one leader per term. */
  onLeader(node: RaftNode): void {
    const term = node.term;
    const prev = this.leaderOfTerm.get(term);
    if (prev === node.id) return;
    if (prev !== undefined) {
      throw new InvariantViolation(`election safety: nodes ${prev} and ${node.id} both lead term ${term}`);
    }
    this.leaderOfTerm.set(term, node.id);
    this.checkLeaderCompleteness(node);
  }

  /** State-machine safety: no two nodes apply different entries at one index. */
  onApply(nodeId: number, nodeTerm: number, e: Entry): void {
    const f = fingerprint(e);
    const prev = this.applied.get(e.index);
    if (prev === undefined) {
      this.applied.set(e.index, f);
      this.appliedTerm.set(e.index, { term: e.term, commitTermMax: nodeTerm });
    } else if (prev !== f) {
      throw new InvariantViolation(`state machine safety: node ${nodeId} applied ${f} at ${e.index}, another applied ${prev}`);
    }
  }

  /** Leader completeness: a new leader's log holds every entry applied anywhere. */
  private checkLeaderCompleteness(node: RaftNode): void {
    const first = node.log.firstIndex();
    const leaderTerm = node.status().term;
    for (const [index, { term, commitTermMax }] of this.appliedTerm) {
      // Covered by its snapshot, or possibly committed in a term not before this one.
      if (index < first || commitTermMax >= leaderTerm) continue;
      const t = node.log.term(index);
      if (t !== term) {
        throw new InvariantViolation(
          `leader completeness: leader ${node.id} of term ${node.status().term} has term ${t} at applied index ${index} (want ${term})`,
        );
      }
    }
  }

  /** Log matching: same index and term means the same entries up to there. */
  checkLogMatching(nodes: RaftNode[]): void {
    for (let i = 0; i < nodes.length; i++) {
      for (let j = i + 1; j < nodes.length; j++) logMatching(nodes[i], nodes[j]);
    }
  }
}

function logMatching(a: RaftNode, b: RaftNode): void {
  const lo = Math.max(a.log.firstIndex(), b.log.firstIndex());
  const hi = Math.min(a.log.lastIndex(), b.log.lastIndex());
  if (hi < lo) return;
  const ea = a.log.entries(lo, hi + 1, Number.MAX_SAFE_INTEGER);
  const eb = b.log.entries(lo, hi + 1, Number.MAX_SAFE_INTEGER);
  // Find the highest index where the terms agree; everything below must be equal.
  let top = -1;
  for (let k = ea.length - 1; k >= 0; k--) {
    if (ea[k].term === eb[k].term) {
      top = k;
      break;
    }
  }
  for (let k = 0; k <= top; k++) {
    if (fingerprint(ea[k]) !== fingerprint(eb[k])) {
      throw new InvariantViolation(
        `log matching: nodes ${a.id} and ${b.id} agree on term at ${ea[top].index} but differ at ${ea[k].index}`,
      );
    }
  }
}
