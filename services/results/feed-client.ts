import * as grpc from '@grpc/grpc-js';
import { ResultService, TailEventsRequestSchema, type Event } from '../../libs/gen/dtf/result/v1/result_service_pb';
import { create, toBinary } from '@bufbuild/protobuf';
import { grpcMessageBytesMax, grpcPath, grpcSendBytesMax } from '../../libs/rpc/grpc-method';
import { toConnectError } from '../../libs/rpc/grpc-transport';
import { decodeFeedMessage } from './feed-decode';

const tailEvents = ResultService.method.tailEvents;

/**
 * A reader of the coordinator's event feed over gRPC that decodes each
 * message with {@link decodeFeedMessage} rather than protobuf-es's
 * reflective `fromBinary`, which cost the collector more CPU than storing
 * the events. Other calls (checkpoints) keep using the ordinary client.
 */
export class FeedClient {
  private readonly client: grpc.Client;

  constructor(readonly address: string) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': grpcSendBytesMax,
      'grpc.max_send_message_length': grpcMessageBytesMax,
      'grpc.keepalive_time_ms': 20_000,
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2000,
    });
  }

  /** The feed after `afterIndex`, one array of events per message, until `signal` aborts or the stream fails. */
  async *tail(afterIndex: bigint, signal: AbortSignal): AsyncIterable<Event[]> {
    const request = create(TailEventsRequestSchema, { afterIndex });
    const call = this.client.makeServerStreamRequest(
      grpcPath(tailEvents),
      (m: unknown) => Buffer.from(toBinary(TailEventsRequestSchema, m as typeof request)),
      (bytes: Buffer) => bytes,
      request,
      new grpc.Metadata(),
      {},
    );
    const cancel = () => call.cancel();
    signal.addEventListener('abort', cancel, { once: true });
    try {
      for await (const bytes of call) yield decodeFeedMessage(bytes as Buffer);
    } catch (err) {
      throw toConnectError(err);
    } finally {
      signal.removeEventListener('abort', cancel);
      call.cancel();
    }
  }

  close(): void {
    this.client.close();
  }
}
