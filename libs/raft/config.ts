/** How a RaftNode is built: identity, storage, randomness and its limits. */
import type { Rng } from './rng';
import type { Storage } from './storage';

/** How reads are made linearizable. */
export type ReadOnlyOption = 'safe' | 'lease';

/** Options for a RaftNode; the optional ones default to the constants below. */
export interface RaftConfig {
  id: number;
  storage: Storage;
  rng: Rng;
  /** Election timeout is drawn from [electionTicks, 2 * electionTicks). */
  electionTicks?: number;
  heartbeatTicks?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  /**
   * 'safe': ReadIndex confirms leadership with a heartbeat round.
   * 'lease': trusts the CheckQuorum lease instead, which is only as safe as
   * the bound on clock drift between nodes; an explicit opt-in.
   */
  readOnly?: ReadOnlyOption;
  /** The index the host's state machine has already applied at start. */
  applied?: number;
  entriesPerMessageBytesMax?: number;
  inflightMessagesMax?: number;
  snapshotChunkBytesMax?: number;
  committedEntriesPerReadyBytesMax?: number;
  uncommittedEntriesMax?: number;
  readIndexPendingMax?: number;
}

export const electionTicksDefault = 10;
export const heartbeatTicksDefault = 1;
export const entriesPerMessageBytesMaxDefault = 1 << 20;
export const inflightMessagesMaxDefault = 64;
export const snapshotChunkBytesMaxDefault = 1 << 20;
export const committedEntriesPerReadyBytesMaxDefault = 4 << 20;
/** Proposals beyond this many uncommitted entries are refused: backpressure. */
export const uncommittedEntriesMaxDefault = 10_000;
export const readIndexPendingMaxDefault = 10_000;

/** A config with every default filled in. */
export type ResolvedRaftConfig = Required<Omit<RaftConfig, 'applied'>> & { applied: number | undefined };

export function resolveConfig(c: RaftConfig): ResolvedRaftConfig {
  const r: ResolvedRaftConfig = {
    electionTicks: electionTicksDefault,
    heartbeatTicks: heartbeatTicksDefault,
    preVote: true,
    checkQuorum: true,
    readOnly: 'safe',
    entriesPerMessageBytesMax: entriesPerMessageBytesMaxDefault,
    inflightMessagesMax: inflightMessagesMaxDefault,
    snapshotChunkBytesMax: snapshotChunkBytesMaxDefault,
    committedEntriesPerReadyBytesMax: committedEntriesPerReadyBytesMaxDefault,
    uncommittedEntriesMax: uncommittedEntriesMaxDefault,
    readIndexPendingMax: readIndexPendingMaxDefault,
    ...c,
    applied: c.applied,
  };
  if (r.id <= 0) throw new Error(`raft config: id ${r.id} must be a positive integer; 0 means "no node"`);
  if (r.heartbeatTicks <= 0 || r.electionTicks <= r.heartbeatTicks) {
    throw new Error(
      `raft config: electionTicks (${r.electionTicks}) must exceed heartbeatTicks (${r.heartbeatTicks}) > 0`,
    );
  }
  if (r.readOnly === 'lease' && !r.checkQuorum) {
    throw new Error('raft config: readOnly "lease" needs checkQuorum, or a partitioned leader could serve stale reads');
  }
  return r;
}
