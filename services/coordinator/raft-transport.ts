/**
 * Raft messages between coordinators over gRPC (proto/dtf/raft/v1/raft_service.proto).
 * Votes, snapshot chunks and TimeoutNow go as unary calls; everything else
 * on one long-lived client stream per peer, written without waiting for
 * answers (pipelined). Delivery is best effort: a message lost with a broken
 * stream is re-sent by the core (appends are retried, heartbeats repeat).
 */
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import * as grpc from '@grpc/grpc-js';
import {
  AppendEntriesRequestSchema,
  InstallSnapshotRequestSchema,
  RaftService,
  RequestVoteRequestSchema,
  TimeoutNowRequestSchema,
  type AppendEntriesRequest,
} from '../../libs/gen/dtf/raft/v1/raft_service_pb';
import type { Message as PbMessage } from '../../libs/gen/dtf/raft/v1/raft_pb';
import type { PeerTransport } from '../../libs/log/raft-host';
import { messageFromProto, messageToProto } from '../../libs/raft/codec';
import { MessageType, type Message } from '../../libs/raft/types';
import { grpcMessageBytesMax, grpcMethodDefinition } from '../../libs/rpc/grpc-method';

/** Stream writes buffered for one peer at most; past it the stream is reset and the messages dropped. */
export const streamWritesBufferedMax = 256;
/** Unary calls (votes, snapshot chunks) outstanding to one peer at most. */
export const unaryCallsInFlightMax = 16;
/** A unary call to a peer gives up after this long. */
export const peerCallTimeoutMs = 2000;
/** Messages in one stream write at most. */
export const messagesPerWriteMax = 256;

const appendDef = grpcMethodDefinition(RaftService.method.appendEntries);
const unaryDefs = {
  vote: { def: grpcMethodDefinition(RaftService.method.requestVote), schema: RequestVoteRequestSchema },
  snapshot: { def: grpcMethodDefinition(RaftService.method.installSnapshot), schema: InstallSnapshotRequestSchema },
  timeoutNow: { def: grpcMethodDefinition(RaftService.method.timeoutNow), schema: TimeoutNowRequestSchema },
};

/** One peer: a grpc-js channel, its stream, and counts for status. */
class PeerLink {
  private client: grpc.Client;
  private stream: grpc.ClientWritableStream<unknown> | undefined;
  private unaryInFlight = 0;
  dropped = 0;

  constructor(readonly address: string) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), {
      'grpc.max_send_message_length': grpcMessageBytesMax,
      'grpc.max_receive_message_length': grpcMessageBytesMax,
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
      'grpc.keepalive_time_ms': 5000,
      'grpc.keepalive_timeout_ms': 2000,
    });
  }

  sendStream(messages: PbMessage[]): void {
    if (!this.stream) {
      const s = this.client.makeClientStreamRequest(appendDef.path, appendDef.requestSerialize, appendDef.responseDeserialize, new grpc.Metadata(), {}, () => {
        if (this.stream === s) this.stream = undefined;
      });
      s.on('error', () => {
        if (this.stream === s) this.stream = undefined;
      });
      this.stream = s;
    }
    if (this.stream.writableLength >= streamWritesBufferedMax) {
      // The peer is not reading (gone, or the link is blackholed): start
      // afresh rather than buffer without bound.
      this.dropped += messages.length;
      this.stream.cancel();
      this.stream = undefined;
      return;
    }
    for (let i = 0; i < messages.length; i += messagesPerWriteMax) {
      this.stream.write(create(AppendEntriesRequestSchema, { messages: messages.slice(i, i + messagesPerWriteMax) }));
    }
  }

  sendUnary(kind: keyof typeof unaryDefs, message: PbMessage): void {
    if (this.unaryInFlight >= unaryCallsInFlightMax) {
      this.dropped++;
      return;
    }
    const { def, schema } = unaryDefs[kind];
    this.unaryInFlight++;
    this.client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, create(schema, { message }), new grpc.Metadata(), { deadline: Date.now() + peerCallTimeoutMs }, () => {
      this.unaryInFlight--;
    });
  }

  close(): void {
    this.stream?.cancel();
    this.stream = undefined;
    this.client.close();
  }
}

/**
 * The coordinator's PeerTransport: sends to members by id, looking their
 * address up in a book that membership changes and snapshots update.
 */
export class GrpcPeerTransport implements PeerTransport {
  private readonly links = new Map<number, PeerLink>();

  constructor(
    private readonly selfId: number,
    /** Member id → host:port; shared with the coordinator, which updates it. */
    readonly addresses: Map<number, string>,
  ) {}

  send(messages: Message[]): void {
    const streamed = new Map<number, PbMessage[]>();
    for (const m of messages) {
      if (m.to === this.selfId) continue;
      const link = this.link(m.to);
      if (!link) continue;
      const pb = messageToProto(m);
      switch (m.type) {
        case MessageType.PRE_VOTE:
        case MessageType.VOTE:
          link.sendUnary('vote', pb);
          break;
        case MessageType.SNAPSHOT:
          link.sendUnary('snapshot', pb);
          break;
        case MessageType.TIMEOUT_NOW:
          link.sendUnary('timeoutNow', pb);
          break;
        default: {
          let list = streamed.get(m.to);
          if (!list) streamed.set(m.to, (list = []));
          list.push(pb);
        }
      }
    }
    for (const [to, list] of streamed) this.link(to)?.sendStream(list);
  }

  /** Closes the connection to a member that left the cluster. */
  forget(id: number): void {
    this.links.get(id)?.close();
    this.links.delete(id);
  }

  /** Messages dropped per peer because it was not keeping up. */
  droppedTo(id: number): number {
    return this.links.get(id)?.dropped ?? 0;
  }

  private link(id: number): PeerLink | undefined {
    const address = this.addresses.get(id);
    let link = this.links.get(id);
    if (link && link.address !== address) {
      link.close();
      this.links.delete(id);
      link = undefined;
    }
    if (!link && address) {
      link = new PeerLink(address);
      this.links.set(id, link);
    }
    return link;
  }

  async close(): Promise<void> {
    for (const l of this.links.values()) l.close();
    this.links.clear();
  }
}

/** The receiving side: what a member does with each message it is sent. */
export interface RaftReceiver {
  readonly id: number;
  /** Hands a message to the local core; throws when this member cannot take it. */
  receive(m: Message): void;
}

function decode(pb: PbMessage | undefined, r: RaftReceiver, what: string): Message {
  if (!pb) throw new ConnectError(`${what}: the request carries no message`, Code.InvalidArgument);
  const m = messageFromProto(pb);
  if (m.to !== r.id) {
    throw new ConnectError(`${what}: message for member ${m.to} reached member ${r.id}; the sender's --peers disagrees with this member's --id`, Code.FailedPrecondition);
  }
  return m;
}

/** RaftService: decodes, checks the addressee, hands each message to the core. */
export function raftService(r: RaftReceiver): ServiceImpl<typeof RaftService> {
  return {
    async requestVote(req) {
      r.receive(decode(req.message, r, 'RequestVote'));
      return {};
    },
    async appendEntries(requests: AsyncIterable<AppendEntriesRequest>) {
      let n = 0n;
      for await (const req of requests) {
        for (const pb of req.messages) {
          r.receive(decode(pb, r, 'AppendEntries'));
          n++;
        }
      }
      return { messages: n };
    },
    async installSnapshot(req) {
      r.receive(decode(req.message, r, 'InstallSnapshot'));
      return {};
    },
    async timeoutNow(req) {
      r.receive(decode(req.message, r, 'TimeoutNow'));
      return {};
    },
  };
}
