import { create, type DescMessage, type DescMethodStreaming, type DescMethodUnary, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { Code, ConnectError, type Transport } from '@connectrpc/connect';
import type { StreamResponse, UnaryResponse } from '@connectrpc/connect';
import * as grpc from '@grpc/grpc-js';
import { grpcMessageBytesMax, grpcMethodDefinition } from './grpc-method';

type HeaderInit = ConstructorParameters<typeof Headers>[0];

/** A Connect transport that speaks gRPC through grpc-js; close it when done. */
export interface GrpcTransport extends Transport {
  close(): void;
  readonly address: string;
}

/**
 * Creates a transport to `address` (host:port). Clients made from it with
 * Connect's `createClient` look the same as clients of the gateway, so code
 * that calls a service does not care which stack carries the call.
 */
export function createGrpcTransport(address: string, headers: Record<string, string> = {}, receiveBytesMax = grpcMessageBytesMax): GrpcTransport {
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': receiveBytesMax,
    'grpc.max_send_message_length': grpcMessageBytesMax,
    'grpc.keepalive_time_ms': 20_000,
    'grpc.initial_reconnect_backoff_ms': 200,
    'grpc.max_reconnect_backoff_ms': 2000,
  });
  const metadataFor = (header: HeaderInit | undefined) => {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(headers)) md.set(k, v);
    if (header) new Headers(header).forEach((v, k) => md.set(k, v));
    return md;
  };
  const callOptions = (timeoutMs: number | undefined): grpc.CallOptions =>
    timeoutMs ? { deadline: Date.now() + timeoutMs } : {};

  return {
    address,
    close: () => client.close(),
    async unary<I extends DescMessage, O extends DescMessage>(method: DescMethodUnary<I, O>, signal: AbortSignal | undefined, timeoutMs: number | undefined, header: HeaderInit | undefined, input: MessageInitShape<I>): Promise<UnaryResponse<I, O>> {
      const def = grpcMethodDefinition(method);
      const message = await new Promise<MessageShape<O>>((resolve, reject) => {
        const call = client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, create(method.input, input), metadataFor(header), callOptions(timeoutMs), (err, res) =>
          err ? reject(toConnectError(err)) : resolve(res as MessageShape<O>),
        );
        signal?.addEventListener('abort', () => call.cancel(), { once: true });
      });
      return { stream: false, service: method.parent, method, header: new Headers(), trailer: new Headers(), message };
    },
    async stream<I extends DescMessage, O extends DescMessage>(method: DescMethodStreaming<I, O>, signal: AbortSignal | undefined, timeoutMs: number | undefined, header: HeaderInit | undefined, input: AsyncIterable<MessageInitShape<I>>): Promise<StreamResponse<I, O>> {
      const def = grpcMethodDefinition(method);
      let call: grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>;
      if (method.methodKind === 'server_streaming') {
        let first: MessageInitShape<I> | undefined;
        for await (const m of input) {
          first = m;
          break;
        }
        call = client.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, create(method.input, first ?? ({} as MessageInitShape<I>)), metadataFor(header), callOptions(timeoutMs));
      } else if (method.methodKind === 'bidi_streaming') {
        const duplex = client.makeBidiStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, metadataFor(header), callOptions(timeoutMs));
        call = duplex;
        void writeAll(duplex, input, method.input);
      } else {
        throw new ConnectError('client streaming is not supported', Code.Unimplemented);
      }
      signal?.addEventListener('abort', () => call.cancel(), { once: true });
      return { stream: true, service: method.parent, method, header: new Headers(), trailer: new Headers(), message: readAll<O>(call) };
    },
  };
}

async function writeAll<I extends DescMessage>(call: grpc.ClientDuplexStream<unknown, unknown>, input: AsyncIterable<MessageInitShape<I>>, schema: I): Promise<void> {
  try {
    for await (const m of input) {
      if (call.destroyed) return;
      if (!call.write(create(schema, m))) await new Promise<void>((r) => call.once('drain', r));
    }
    call.end();
  } catch (err) {
    call.cancel();
    void err;
  }
}

async function* readAll<O extends DescMessage>(call: grpc.ClientReadableStream<unknown>): AsyncIterable<MessageShape<O>> {
  try {
    for await (const m of call) yield m as MessageShape<O>;
  } catch (err) {
    throw toConnectError(err);
  }
}

/**
 * Headers of the gRPC transport itself. grpc-js folds the response headers
 * into an error's metadata; passed on, they would become the headers of the
 * gateway's own reply (a `content-type: application/grpc` on a Connect
 * error makes it unreadable).
 */
const transportHeader = /^(:|grpc-)|^(content-type|content-length|date|te|user-agent|server|connection|transfer-encoding)$/;

/** Maps a grpc-js error to a ConnectError with the same code, message and application metadata (e.g. `retry-after`). */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  const e = err as Partial<grpc.ServiceError>;
  if (typeof e.code !== 'number') return ConnectError.from(err);
  const metadata = new Headers();
  for (const [k, v] of Object.entries(e.metadata?.getMap() ?? {})) if (typeof v === 'string' && !transportHeader.test(k)) metadata.set(k, v);
  return new ConnectError(e.details || e.message || 'call failed', e.code as number as Code, metadata);
}
