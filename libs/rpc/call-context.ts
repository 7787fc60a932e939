import type { DescMethod } from '@bufbuild/protobuf';
import { createContextValues, type ContextValues, type HandlerContext } from '@connectrpc/connect';
import type * as grpc from '@grpc/grpc-js';

type AnyServerCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown> | grpc.ServerReadableStream<unknown, unknown>;

/**
 * The Connect handler context of one gRPC call, made for what our handlers
 * use: its signal aborts when the client cancels, when the server shuts down
 * (the server aborts its live calls itself) or when the call ends.
 *
 * Connect's `createHandlerContext` links three AbortControllers and adds a
 * listener to the server's shutdown signal per call that is removed only on
 * abort: on a server that nobody aborted, every unary call left one behind,
 * and since EventTarget scans its listeners on every add, each call cost
 * more than the last. Headers are built only when a handler reads them.
 */
export class CallContext implements HandlerContext {
  private readonly controller = new AbortController();
  private requestHeaders: Headers | undefined;
  private responseHeaders: Headers | undefined;
  private responseTrailers: Headers | undefined;
  private contextValues: ContextValues | undefined;
  readonly protocolName = 'grpc';
  readonly requestMethod = 'POST';

  constructor(readonly method: DescMethod, private readonly call: AnyServerCall) {}

  get service(): HandlerContext['service'] {
    return this.method.parent;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get url(): string {
    return `grpc://${this.call.getPeer()}/${this.method.parent.typeName}/${this.method.name}`;
  }

  readonly timeoutMs = (): number | undefined => undefined;

  get requestHeader(): Headers {
    if (!this.requestHeaders) {
      const h = new Headers();
      for (const [k, v] of Object.entries(this.call.metadata.getMap())) if (typeof v === 'string') h.append(k, v);
      this.requestHeaders = h;
    }
    return this.requestHeaders;
  }

  get responseHeader(): Headers {
    return (this.responseHeaders ??= new Headers());
  }

  get responseTrailer(): Headers {
    return (this.responseTrailers ??= new Headers());
  }

  get values(): ContextValues {
    return (this.contextValues ??= createContextValues());
  }

  /** Ends the call for its handler: `signal` aborts with `reason` (once). */
  abort(reason: unknown): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }
}
