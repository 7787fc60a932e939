/**
 * Conversions between the core's plain objects (number indexes) and the
 * generated protobuf messages (bigint indexes), plus binary encodings. The
 * transport and the file storage use these; the core never sees bigint.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import * as pb from '../gen/dtf/raft/v1/raft_pb';
import type { ConfChange, ConfState, Entry, HardState, Message, Snapshot, SnapshotMetadata } from './types';
import { emptyBytes } from './types';

const n = (v: bigint): number => Number(v);
const b = (v: number): bigint => BigInt(v);

export function entryToProto(e: Entry): pb.Entry {
  return create(pb.EntrySchema, { term: b(e.term), index: b(e.index), type: e.type, data: e.data });
}

export function entryFromProto(e: pb.Entry): Entry {
  return { term: n(e.term), index: n(e.index), type: e.type, data: e.data };
}

function confStateToProto(c: ConfState): pb.ConfState {
  return create(pb.ConfStateSchema, { voters: c.voters.map(b) });
}

function confStateFromProto(c: pb.ConfState | undefined): ConfState {
  return { voters: (c?.voters ?? []).map(n) };
}

export function metadataToProto(m: SnapshotMetadata): pb.SnapshotMetadata {
  return create(pb.SnapshotMetadataSchema, {
    index: b(m.index),
    term: b(m.term),
    confState: confStateToProto(m.confState),
  });
}

export function metadataFromProto(m: pb.SnapshotMetadata): SnapshotMetadata {
  return { index: n(m.index), term: n(m.term), confState: confStateFromProto(m.confState) };
}

/** Converts a core message to its generated protobuf form. */
export function messageToProto(m: Message): pb.Message {
  return create(pb.MessageSchema, {
    type: m.type,
    from: b(m.from),
    to: b(m.to),
    term: b(m.term),
    logTerm: b(m.logTerm),
    index: b(m.index),
    entries: m.entries.map(entryToProto),
    commit: b(m.commit),
    reject: m.reject,
    rejectHint: b(m.rejectHint),
    snapshot: m.snapshot ? metadataToProto(m.snapshot) : undefined,
    chunkOffset: b(m.chunkOffset),
    chunkData: m.chunkData,
    chunkLast: m.chunkLast,
    context: m.context,
    transfer: m.transfer,
  });
}

/** Converts a generated protobuf message to the core's form. */
export function messageFromProto(m: pb.Message): Message {
  return {
    type: m.type,
    from: n(m.from),
    to: n(m.to),
    term: n(m.term),
    logTerm: n(m.logTerm),
    index: n(m.index),
    entries: m.entries.map(entryFromProto),
    commit: n(m.commit),
    reject: m.reject,
    rejectHint: n(m.rejectHint),
    snapshot: m.snapshot ? metadataFromProto(m.snapshot) : undefined,
    chunkOffset: n(m.chunkOffset),
    chunkData: m.chunkData,
    chunkLast: m.chunkLast,
    context: m.context,
    transfer: m.transfer,
  };
}

export function encodeMessage(m: Message): Uint8Array {
  return toBinary(pb.MessageSchema, messageToProto(m));
}

export function decodeMessage(bytes: Uint8Array): Message {
  return messageFromProto(fromBinary(pb.MessageSchema, bytes));
}

export function encodeEntry(e: Entry): Uint8Array {
  return toBinary(pb.EntrySchema, entryToProto(e));
}

export function decodeEntry(bytes: Uint8Array): Entry {
  return entryFromProto(fromBinary(pb.EntrySchema, bytes));
}

export function encodeHardState(h: HardState): Uint8Array {
  return toBinary(pb.HardStateSchema, create(pb.HardStateSchema, { term: b(h.term), vote: b(h.vote), commit: b(h.commit) }));
}

export function decodeHardState(bytes: Uint8Array): HardState {
  const h = fromBinary(pb.HardStateSchema, bytes);
  return { term: n(h.term), vote: n(h.vote), commit: n(h.commit) };
}

export function encodeSnapshot(s: Snapshot): Uint8Array {
  return toBinary(pb.SnapshotSchema, create(pb.SnapshotSchema, { metadata: metadataToProto(s.metadata), data: s.data }));
}

export function decodeSnapshot(bytes: Uint8Array): Snapshot {
  const s = fromBinary(pb.SnapshotSchema, bytes);
  const metadata = s.metadata ? metadataFromProto(s.metadata) : { index: 0, term: 0, confState: { voters: [] } };
  return { metadata, data: s.data };
}

export function encodeConfChange(c: ConfChange): Uint8Array {
  return toBinary(pb.ConfChangeSchema, create(pb.ConfChangeSchema, { type: c.type, nodeId: b(c.nodeId), context: c.context ?? emptyBytes }));
}

export function decodeConfChange(bytes: Uint8Array): ConfChange {
  const c = fromBinary(pb.ConfChangeSchema, bytes);
  return c.context.length > 0 ? { type: c.type, nodeId: n(c.nodeId), context: c.context } : { type: c.type, nodeId: n(c.nodeId) };
}
