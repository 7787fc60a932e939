/**
 * Any member of a cluster answers any call. Writes go to the leader: a
 * follower forwards them there (one hop: a forwarded call that reaches a
 * member that is not leading fails as UNAVAILABLE, naming the leader it
 * knows). Reads that must be current wait for a ReadIndex barrier and are
 * then served from the local replica. A lone coordinator serves everything
 * itself, as before.
 */
import type { DescMethod, DescService } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import { LogError } from '../../libs/log/replicated-log';
import { createGrpcTransport, type GrpcTransport } from '../../libs/rpc/grpc-transport';
import type { Coordinator } from './coordinator';

/** Header a forwarding member sets, so that a call is forwarded at most once. */
export const forwardedHeader = 'dtf-forwarded-by';
/** Leader connections kept for forwarding at most (one per address seen). */
export const forwardTransportsMax = 16;

/** How each method is routed: forwarded to the leader, or read locally after a barrier. */
export interface Routing {
  writes: string[];
  reads: string[];
}

export const routing = {
  scheduler: { writes: ['submitJob', 'cancelJob', 'cancelTask'], reads: ['getJob', 'listJobs', 'getTask', 'listTasks', 'watchJob'] },
  // Worker views merge the leader's soft state (load, sessions): ask the leader.
  registry: { writes: ['cordonWorker', 'drainWorker', 'registerWorker', 'reportWorkerStatus', 'listWorkers', 'getWorker'], reads: [] },
  results: { writes: ['commitCheckpoint'], reads: ['getTaskResult', 'listJobResults'] },
} satisfies Record<string, Routing>;

const transports = new Map<string, GrpcTransport>();

function transportTo(address: string): GrpcTransport {
  let t = transports.get(address);
  if (!t) {
    if (transports.size >= forwardTransportsMax) {
      const [oldest, ot] = transports.entries().next().value as [string, GrpcTransport];
      ot.close();
      transports.delete(oldest);
    }
    t = createGrpcTransport(address);
    transports.set(address, t);
  }
  return t;
}

/** Turns a log refusal (lost leadership, closed log) into a retryable UNAVAILABLE. */
function asRpcError(e: unknown): unknown {
  if (e instanceof LogError) return new ConnectError(e.message, Code.Unavailable);
  return e;
}

type AnyFn = (req: unknown, ctx: HandlerContext) => unknown;

/** Wraps `local` so that a member of a cluster routes each call as `r` says. */
export function routeToLeader<S extends DescService>(service: S, local: ServiceImpl<S>, c: Coordinator, r: Routing): ServiceImpl<S> {
  const out: Record<string, unknown> = {};
  for (const method of service.methods) {
    const fn = (local as Record<string, AnyFn>)[method.localName].bind(local);
    if (r.writes.includes(method.localName)) out[method.localName] = write(service, method, fn, c);
    else if (r.reads.includes(method.localName)) out[method.localName] = read(method, fn, c);
    else out[method.localName] = fn;
  }
  return out as ServiceImpl<S>;
}

function write(service: DescService, method: DescMethod, fn: AnyFn, c: Coordinator): AnyFn {
  return async (req, ctx) => {
    if (c.leading) {
      try {
        return await fn(req, ctx);
      } catch (e) {
        throw asRpcError(e);
      }
    }
    const leader = c.cluster!.leader();
    if (!leader.address) {
      throw new ConnectError(`member ${c.cluster!.id} is not the leader and knows of none yet (election under way); retry shortly`, Code.Unavailable);
    }
    if (ctx.requestHeader.get(forwardedHeader)) {
      throw new ConnectError(`member ${c.cluster!.id} is not the leader; leader is member ${leader.id} at ${leader.address}`, Code.Unavailable);
    }
    const client = createClient(service, transportTo(leader.address)) as unknown as Record<string, (req: unknown, opts: object) => Promise<unknown>>;
    return client[method.localName](req, { headers: { [forwardedHeader]: String(c.cluster!.id) }, signal: ctx.signal });
  };
}

function read(method: DescMethod, fn: AnyFn, c: Coordinator): AnyFn {
  if (method.methodKind === 'server_streaming') {
    return async function* (req: unknown, ctx: HandlerContext) {
      await c.readBarrier().catch((e: unknown) => {
        throw asRpcError(e);
      });
      yield* fn(req, ctx) as AsyncIterable<unknown>;
    } as AnyFn;
  }
  return async (req, ctx) => {
    try {
      await c.readBarrier();
    } catch (e) {
      throw asRpcError(e);
    }
    return fn(req, ctx);
  };
}

/** Closes the connections kept for forwarding (tests, shutdown). */
export function closeForwardTransports(): void {
  for (const t of transports.values()) t.close();
  transports.clear();
}
