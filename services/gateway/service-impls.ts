import type { DescService } from '@bufbuild/protobuf';
import type { Client, ServiceImpl } from '@connectrpc/connect';
import type { ClusterService } from '../../libs/gen/dtf/raft/v1/cluster_service_pb';
import type { RaftService } from '../../libs/gen/dtf/raft/v1/raft_service_pb';
import type { RegistryService } from '../../libs/gen/dtf/registry/v1/registry_service_pb';
import type { ResultService } from '../../libs/gen/dtf/result/v1/result_service_pb';
import type { SchedulerService } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';

/** The coordinator services the gateway exposes, local or proxied. */
export interface CoordinatorImpls {
  scheduler: ServiceImpl<typeof SchedulerService>;
  registry: ServiceImpl<typeof RegistryService>;
  results: ServiceImpl<typeof ResultService>;
  /** Present when the coordinator is a member of a Raft cluster (or may be: a proxy). */
  cluster?: ServiceImpl<typeof ClusterService>;
  /** The member's Raft transport, for /api/raft/*; only in-process (`dtf up`). */
  raft?: ServiceImpl<typeof RaftService>;
}

/**
 * Turns a client into a service implementation that forwards every call,
 * so a standalone gateway serves a remote coordinator with the same code
 * that serves an in-process one.
 */
export function proxyImpl<S extends DescService>(service: S, client: Client<S>): ServiceImpl<S> {
  const impl: Record<string, unknown> = {};
  for (const m of service.methods) {
    const fn = (client as Record<string, (...a: unknown[]) => unknown>)[m.localName];
    impl[m.localName] = (req: unknown, ctx: { signal: AbortSignal }) => fn(req, { signal: ctx.signal });
  }
  return impl as ServiceImpl<S>;
}
