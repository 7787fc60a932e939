import { create, type DescMethod, type DescService } from '@bufbuild/protobuf';
import { Code, ConnectError, createHandlerContext, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { setMaxListeners } from 'node:events';
import { grpcMessageBytesMax, grpcSendBytesMax, grpcServiceDefinition } from './grpc-method';
import { AsyncQueue } from './async-queue';
import { ReflectionIndex, v1, v1alpha } from './reflection';

/**
 * A grpc-js server that serves Connect-style service implementations, plus
 * grpc.health.v1 and server reflection.
 */
export class GrpcServer {
  readonly server = new grpc.Server({
    'grpc.max_receive_message_length': grpcMessageBytesMax,
    'grpc.max_send_message_length': grpcSendBytesMax,
    'grpc.keepalive_time_ms': 20_000,
    'grpc.keepalive_permit_without_calls': 1,
  });
  readonly health = new HealthImplementation({ '': 'SERVING' });
  private readonly shutdown = new AbortController();
  private readonly names: string[] = [];
  private readonly reflection = new ReflectionIndex();

  constructor() {
    // Every call's context listens on the one shutdown signal; thousands of
    // worker streams are normal, so lift Node's leak warning for it.
    setMaxListeners(0, this.shutdown.signal);
    this.health.addToServer(this.server);
  }

  /** Serves `impl` for `service`; every method of the service must be implemented. */
  add<S extends DescService>(service: S, impl: ServiceImpl<S>): this {
    const handlers: Record<string, grpc.UntypedHandleCall> = {};
    for (const method of service.methods) {
      const fn = (impl as Record<string, unknown>)[method.localName];
      if (typeof fn !== 'function') throw new Error(`${service.typeName}.${method.name} is not implemented`);
      handlers[method.localName] = adaptHandler(method, fn.bind(impl), this.shutdown.signal);
    }
    this.server.addService(grpcServiceDefinition(service), handlers);
    this.health.setStatus(service.typeName, 'SERVING');
    this.names.push(service.typeName);
    this.reflection.add(service);
    return this;
  }

  /** Binds to `host:port` (port 0 picks one) and returns the port. */
  async listen(address: string): Promise<number> {
    const r = this.reflection.services();
    this.add(v1.ServerReflection, r.v1).add(v1alpha.ServerReflection, r.v1alpha);
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(new Error(`cannot listen on ${address}: ${err.message}`)) : resolve(port),
      );
    });
  }

  /** Stops taking calls, ends streams, and waits up to `graceMs` for calls to finish. */
  async stop(graceMs = 2000): Promise<void> {
    for (const n of this.names) this.health.setStatus(n, 'NOT_SERVING');
    this.shutdown.abort();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

type AnyFn = (...args: unknown[]) => unknown;

function contextFor(method: DescMethod, call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown> | grpc.ServerReadableStream<unknown, unknown>, shutdown: AbortSignal): HandlerContext {
  const abort = new AbortController();
  (call as grpc.ServerUnaryCall<unknown, unknown>).on('cancelled', () => abort.abort(new ConnectError('cancelled by the client', Code.Canceled)));
  const header: [string, string][] = [];
  for (const [k, v] of Object.entries(call.metadata.getMap())) if (typeof v === 'string') header.push([k, v]);
  return createHandlerContext({
    service: method.parent,
    method,
    protocolName: 'grpc',
    requestMethod: 'POST',
    url: `grpc://${call.getPeer()}/${method.parent.typeName}/${method.name}`,
    requestSignal: abort.signal,
    shutdownSignal: shutdown,
    requestHeader: header,
  });
}

function adaptHandler(method: DescMethod, fn: AnyFn, shutdown: AbortSignal): grpc.UntypedHandleCall {
  switch (method.methodKind) {
    case 'unary':
      return (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        Promise.resolve()
          .then(() => fn(call.request, contextFor(method, call, shutdown)))
          .then(
            (res) => cb(null, create(method.output, res as never)),
            (err) => cb(toServiceError(err)),
          );
      };
    case 'server_streaming':
      return (call: grpc.ServerWritableStream<unknown, unknown>) => {
        const out = fn(call.request, contextFor(method, call, shutdown)) as AsyncIterable<unknown>;
        void pump(out, call, method);
      };
    case 'bidi_streaming':
      return (call: grpc.ServerDuplexStream<unknown, unknown>) => {
        const out = fn(readAll(call), contextFor(method, call, shutdown)) as AsyncIterable<unknown>;
        void pump(out, call, method);
      };
    case 'client_streaming':
      return (call: grpc.ServerReadableStream<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        Promise.resolve()
          .then(() => fn(readAll(call), contextFor(method, call, shutdown)))
          .then(
            (res) => cb(null, create(method.output, res as never)),
            (err) => cb(toServiceError(err)),
          );
      };
  }
}

/**
 * Reads a call's incoming messages as an async iterable that ends when the
 * client half-closes, cancels, or the stream fails: whichever comes first.
 */
function readAll(call: grpc.ServerDuplexStream<unknown, unknown> | grpc.ServerReadableStream<unknown, unknown>): AsyncIterable<unknown> {
  const q = new AsyncQueue<unknown>();
  call.on('data', (m: unknown) => q.push(m));
  for (const ev of ['end', 'cancelled', 'error', 'close']) call.on(ev, () => q.end());
  return q;
}

async function pump(out: AsyncIterable<unknown>, call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>, method: DescMethod): Promise<void> {
  try {
    for await (const m of out) {
      if (call.cancelled || call.destroyed) break;
      if (!call.write(create(method.output, m as never))) {
        await new Promise<void>((r) => {
          const done = () => { call.off('drain', done); call.off('close', done); r(); };
          call.on('drain', done);
          call.on('close', done);
        });
      }
    }
    if (!call.cancelled && !call.destroyed) call.end();
  } catch (err) {
    // grpc-js sends an error status on an 'error' event; destroy() would drop
    // the stream without any status, leaving the client waiting forever.
    if (!call.cancelled && !call.destroyed) call.emit('error', toServiceError(err));
  }
}

/**
 * Maps any thrown value to a gRPC status; Connect codes and gRPC codes share
 * numbers. The error's metadata travels as trailers, so a client behind a
 * proxy still sees e.g. the `retry-after` of a shed submission.
 */
export function toServiceError(err: unknown): Partial<grpc.ServiceError> {
  const ce = ConnectError.from(err);
  const metadata = new grpc.Metadata();
  // Binary and reserved keys would make grpc-js throw; none of ours is either.
  ce.metadata.forEach((v, k) => {
    if (!k.endsWith('-bin') && !k.startsWith('grpc-')) metadata.set(k, v);
  });
  return { code: ce.code as number as grpc.status, details: ce.rawMessage, message: ce.rawMessage, metadata };
}
