import { create, type DescMethod, type DescService } from '@bufbuild/protobuf';
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { grpcMessageBytesMax, grpcSendBytesMax, grpcServiceDefinition } from './grpc-method';
import { AsyncQueue } from './async-queue';
import { CallContext } from './call-context';
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
  private readonly live = new LiveCalls();
  private readonly names: string[] = [];
  private readonly reflection = new ReflectionIndex();

  constructor() {
    this.health.addToServer(this.server);
  }

  /** Calls in progress (streams included). */
  get callsInProgress(): number {
    return this.live.size;
  }

  /** Serves `impl` for `service`; every method of the service must be implemented. */
  add<S extends DescService>(service: S, impl: ServiceImpl<S>): this {
    const handlers: Record<string, grpc.UntypedHandleCall> = {};
    for (const method of service.methods) {
      const fn = (impl as Record<string, unknown>)[method.localName];
      if (typeof fn !== 'function') throw new Error(`${service.typeName}.${method.name} is not implemented`);
      handlers[method.localName] = adaptHandler(method, fn.bind(impl), this.live);
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
    this.live.abortAll();
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

/**
 * The server's calls in progress, so shutting down can abort their handlers'
 * signals: a set, where a listener per call on one shared signal cost a scan
 * of all of them on every call.
 */
class LiveCalls {
  private readonly calls = new Set<CallContext>();
  private stopping: ConnectError | undefined;

  get size(): number {
    return this.calls.size;
  }

  /** A context for `call`, aborted when the client cancels it or the server stops. */
  open(method: DescMethod, call: AnyServerCall): CallContext {
    const ctx = new CallContext(method, call);
    if (this.stopping) {
      ctx.abort(this.stopping);
      return ctx;
    }
    this.calls.add(ctx);
    // grpc-js also says 'cancelled' as a finished call's stream closes: only a live call is cancelled.
    (call as grpc.ServerUnaryCall<unknown, unknown>).on('cancelled', () => {
      if (this.calls.delete(ctx)) ctx.abort(new ConnectError('cancelled by the client', Code.Canceled));
    });
    return ctx;
  }

  close(ctx: CallContext): void {
    this.calls.delete(ctx);
  }

  abortAll(): void {
    this.stopping = new ConnectError('the server is shutting down', Code.Unavailable);
    for (const ctx of this.calls) ctx.abort(this.stopping);
    this.calls.clear();
  }
}

type AnyServerCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown> | grpc.ServerReadableStream<unknown, unknown>;

function adaptHandler(method: DescMethod, fn: AnyFn, live: LiveCalls): grpc.UntypedHandleCall {
  switch (method.methodKind) {
    case 'unary':
      return (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        const ctx = live.open(method, call);
        answer(() => fn(call.request, ctx), method, cb, () => live.close(ctx));
      };
    case 'server_streaming':
      return (call: grpc.ServerWritableStream<unknown, unknown>) => {
        const ctx = live.open(method, call);
        void pump(started(() => fn(call.request, ctx)), call, method).finally(() => live.close(ctx));
      };
    case 'bidi_streaming':
      return (call: grpc.ServerDuplexStream<unknown, unknown>) => {
        const ctx = live.open(method, call);
        void pump(started(() => fn(readAll(call), ctx)), call, method).finally(() => live.close(ctx));
      };
    case 'client_streaming':
      return (call: grpc.ServerReadableStream<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        const ctx = live.open(method, call);
        answer(() => fn(readAll(call), ctx), method, cb, () => live.close(ctx));
      };
  }
}

/** Runs a handler with one answer and sends the answer, or its error as the call's status. */
function answer(run: () => unknown, method: DescMethod, cb: grpc.sendUnaryData<unknown>, done: () => void): void {
  Promise.resolve()
    .then(run)
    .then(
      (res) => {
        done();
        cb(null, create(method.output, res as never));
      },
      (err) => {
        done();
        cb(toServiceError(err));
      },
    );
}

/** A streaming handler's messages; one that throws before returning them ends the call with that error. */
function started(run: () => unknown): AsyncIterable<unknown> {
  try {
    return run() as AsyncIterable<unknown>;
  } catch (err) {
    const failed = new AsyncQueue<unknown>();
    failed.fail(err);
    return failed;
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
  const stopped = () => call.cancelled || call.destroyed;
  const drained = () => new Promise<void>((r) => {
    const done = () => { call.off('drain', done); call.off('close', done); r(); };
    call.on('drain', done);
    call.on('close', done);
  });
  try {
    if (out instanceof AsyncQueue) {
      // In bulk: whatever the handler queued since the last turn, without a promise per message.
      for (;;) {
        await out.ready();
        const batch = out.takeAll();
        if (batch.length === 0) break;
        for (const m of batch) {
          if (stopped()) return;
          if (!call.write(create(method.output, m as never))) await drained();
        }
      }
    } else {
      for await (const m of out) {
        if (stopped()) return;
        if (!call.write(create(method.output, m as never))) await drained();
      }
    }
    if (!stopped()) call.end();
  } catch (err) {
    // grpc-js sends an error status on an 'error' event; destroy() would drop
    // the stream without any status, leaving the client waiting forever.
    if (!stopped()) call.emit('error', toServiceError(err));
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
