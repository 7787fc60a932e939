import { create, type DescMessage, type DescMethod, type DescService } from '@bufbuild/protobuf';
import { Code, ConnectError, createHandlerContext, type CallOptions, type Client, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';

type Handler = (req: unknown, ctx: HandlerContext) => unknown;

/**
 * A client that calls a service implementation in the same process, with
 * no encoding, framing or socket in between: what DESIGN.md means by
 * co-located services calling each other through the same generated
 * interfaces. Messages are passed by reference, so callers must treat what
 * they receive as read-only (the feed's events are shared with the state).
 * Unary and server-streaming methods are supported.
 */
export function inProcessClient<S extends DescService>(service: S, impl: ServiceImpl<S>): Client<S> {
  const client: Record<string, unknown> = {};
  for (const method of service.methods) {
    const fn = ((impl as Record<string, Handler>)[method.localName]).bind(impl);
    if (method.methodKind === 'unary') {
      client[method.localName] = async (req: unknown, opts?: CallOptions) =>
        create(method.output, (await fn(create(method.input, req as never), contextFor(method, opts))) as never);
    } else if (method.methodKind === 'server_streaming') {
      client[method.localName] = (req: unknown, opts?: CallOptions) => streamOf(method.output, fn(create(method.input, req as never), contextFor(method, opts)));
    } else {
      client[method.localName] = () => {
        throw new ConnectError(`${method.name}: only unary and server-streaming methods are served in-process`, Code.Unimplemented);
      };
    }
  }
  return client as Client<S>;
}

async function* streamOf(output: DescMessage, messages: unknown): AsyncIterable<unknown> {
  for await (const m of messages as AsyncIterable<unknown>) yield create(output, m as never);
}

function contextFor(method: DescMethod, opts: CallOptions | undefined): HandlerContext {
  return createHandlerContext({
    service: method.parent,
    method,
    protocolName: 'in-process',
    requestMethod: 'POST',
    url: `in-process:/${method.parent.typeName}/${method.name}`,
    requestSignal: opts?.signal ?? new AbortController().signal,
  });
}
