/**
 * The plain-object vocabulary of the Raft core. Each type mirrors a message
 * of proto/dtf/raft/v1/raft.proto field for field, but with number-typed
 * indexes and terms; codec.ts converts to and from the generated types.
 */
import { ConfChangeType, EntryType, MessageType } from '../gen/dtf/raft/v1/raft_pb';

export { ConfChangeType, EntryType, MessageType };

/** One entry of the replicated log. Index 0 is the empty log's sentinel. */
export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** A single-server membership change. */
export interface ConfChange {
  type: ConfChangeType;
  nodeId: number;
  /** Opaque to the core: a host's own data, e.g. the new member's address. */
  context?: Uint8Array;
}

/** The voters of the cluster at some log index. */
export interface ConfState {
  voters: number[];
}

/** Where a snapshot sits in the log, and the membership there. */
export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
}

/** A state-machine image covering the log up to `metadata.index`. */
export interface Snapshot {
  metadata: SnapshotMetadata;
  data: Uint8Array;
}

/** What must be durable before a node sends anything that depends on it. */
export interface HardState {
  term: number;
  vote: number;
  commit: number;
}

/** A message between peers; which fields matter depends on `type` (see README). */
export interface Message {
  type: MessageType;
  from: number;
  to: number;
  term: number;
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  reject: boolean;
  rejectHint: number;
  snapshot: SnapshotMetadata | undefined;
  chunkOffset: number;
  chunkData: Uint8Array;
  chunkLast: boolean;
  context: Uint8Array;
  transfer: boolean;
}

/** "No node": node ids start at 1. */
export const noNode = 0;

export const emptyBytes = new Uint8Array(0);

/** Builds a message with every field not given at its zero value. */
export function newMessage(m: Partial<Message> & Pick<Message, 'type' | 'from' | 'to' | 'term'>): Message {
  return {
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    snapshot: undefined,
    chunkOffset: 0,
    chunkData: emptyBytes,
    chunkLast: false,
    context: emptyBytes,
    transfer: false,
    ...m,
  };
}

/** The empty snapshot: nothing compacted yet, no voters known. */
export function emptySnapshot(): Snapshot {
  return { metadata: { index: 0, term: 0, confState: { voters: [] } }, data: emptyBytes };
}

/** The role a node plays in its current term. */
export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** A ReadIndex result: once `index` is applied, reads for `context` may be served. */
export interface ReadState {
  index: number;
  context: Uint8Array;
}
