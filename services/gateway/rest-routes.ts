import { create, fromJson, toJson, type DescMessage, type JsonValue } from '@bufbuild/protobuf';
import { Code, ConnectError, createHandlerContext, type HandlerContext } from '@connectrpc/connect';
import { TaskState } from '../../libs/gen/dtf/common/v1/common_pb';
import {
  ClearQuarantineResponseSchema, ListWorkersRequestSchema, ListWorkersResponseSchema, RegisterWorkerRequestSchema, RegisterWorkerResponseSchema,
  ReportWorkerStatusRequestSchema, ReportWorkerStatusResponseSchema, RegistryService,
} from '../../libs/gen/dtf/registry/v1/registry_service_pb';
import { GetTaskResultResponseSchema, ResultService } from '../../libs/gen/dtf/result/v1/result_service_pb';
import {
  CancelJobResponseSchema, ExplainTaskResponseSchema, CancelTaskResponseSchema, GetJobResponseSchema, GetStatusResponseSchema, GetTaskResponseSchema,
  ListJobsResponseSchema, ListTasksResponseSchema, SchedulerService, SubmitJobRequestSchema, SubmitJobResponseSchema,
} from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { ClusterService, GetClusterStatusRequestSchema, GetClusterStatusResponseSchema } from '../../libs/gen/dtf/raft/v1/cluster_service_pb';
import {
  AppendEntriesRequestSchema, AppendEntriesResponseSchema, InstallSnapshotRequestSchema, InstallSnapshotResponseSchema,
  RaftService, RequestVoteRequestSchema, RequestVoteResponseSchema,
} from '../../libs/gen/dtf/raft/v1/raft_service_pb';
import type { CoordinatorImpls } from './service-impls';

/** What a route handler gets: path parameters, query, parsed JSON body. */
export interface RouteInput {
  params: Record<string, string>;
  query: URLSearchParams;
  body: JsonValue | undefined;
  signal: AbortSignal;
}

export interface Route {
  method: 'GET' | 'POST';
  path: string;
  handle: (input: RouteInput) => Promise<unknown>;
}

/** Parses a JSON body as `schema`, naming what was wrong on failure. */
export function parseBody<D extends DescMessage>(schema: D, body: JsonValue | undefined) {
  try {
    return fromJson(schema, body ?? {});
  } catch (e) {
    throw new ConnectError(`request body is not a valid ${schema.typeName}: ${(e as Error).message}`, Code.InvalidArgument);
  }
}

function ctxFor(service: typeof SchedulerService | typeof RegistryService | typeof ResultService, name: string, signal: AbortSignal): HandlerContext {
  const method = service.methods.find((m) => m.name === name)!;
  return createHandlerContext({ service, method, protocolName: 'rest', requestMethod: 'POST', url: '', requestSignal: signal });
}

function out<D extends DescMessage>(schema: D, msg: unknown): JsonValue {
  return toJson(schema, create(schema, msg as never), { alwaysEmitImplicit: true });
}

function intParam(q: URLSearchParams, name: string): number {
  const v = q.get(name);
  if (v === null || v === '') return 0;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new ConnectError(`query parameter ${name}="${v}" is not a non-negative integer`, Code.InvalidArgument);
  return n;
}

function stateParam(q: URLSearchParams): TaskState {
  const v = q.get('state');
  if (!v) return TaskState.UNSPECIFIED;
  const s = TaskState[v.toUpperCase() as keyof typeof TaskState];
  if (s === undefined) {
    const valid = Object.keys(TaskState).filter((k) => Number.isNaN(Number(k)) && k !== 'UNSPECIFIED').map((k) => k.toLowerCase());
    throw new ConnectError(`query parameter state="${v}" is unknown; use one of ${valid.join(', ')}`, Code.InvalidArgument);
  }
  return s;
}

/** The REST surface of DESIGN.md, each path mapped onto a service method. */
export function restRoutes(impls: CoordinatorImpls): Route[] {
  const { scheduler: s, registry: r, results: res } = impls;
  return [
    { method: 'POST', path: '/api/tasks/submit', handle: async (i) => out(SubmitJobResponseSchema, await s.submitJob(parseBody(SubmitJobRequestSchema, i.body), ctxFor(SchedulerService, 'SubmitJob', i.signal))) },
    { method: 'GET', path: '/api/tasks', handle: async (i) => out(ListTasksResponseSchema, await s.listTasks({ $typeName: 'dtf.scheduler.v1.ListTasksRequest', jobId: i.query.get('job_id') ?? '', state: stateParam(i.query), pageSize: intParam(i.query, 'page_size'), pageToken: i.query.get('page_token') ?? '' }, ctxFor(SchedulerService, 'ListTasks', i.signal))) },
    { method: 'GET', path: '/api/tasks/{task_id}/explain', handle: async (i) => out(ExplainTaskResponseSchema, await s.explainTask({ $typeName: 'dtf.scheduler.v1.ExplainTaskRequest', taskId: i.params.task_id }, ctxFor(SchedulerService, 'ExplainTask', i.signal))) },
    { method: 'GET', path: '/api/tasks/{task_id}', handle: async (i) => out(GetTaskResponseSchema, await s.getTask({ $typeName: 'dtf.scheduler.v1.GetTaskRequest', taskId: i.params.task_id }, ctxFor(SchedulerService, 'GetTask', i.signal))) },
    { method: 'POST', path: '/api/tasks/{task_id}/cancel', handle: async (i) => out(CancelTaskResponseSchema, await s.cancelTask({ $typeName: 'dtf.scheduler.v1.CancelTaskRequest', taskId: i.params.task_id }, ctxFor(SchedulerService, 'CancelTask', i.signal))) },
    { method: 'GET', path: '/api/jobs', handle: async (i) => out(ListJobsResponseSchema, await s.listJobs({ $typeName: 'dtf.scheduler.v1.ListJobsRequest', pageSize: intParam(i.query, 'page_size'), pageToken: i.query.get('page_token') ?? '' }, ctxFor(SchedulerService, 'ListJobs', i.signal))) },
    { method: 'GET', path: '/api/jobs/{job_id}', handle: async (i) => out(GetJobResponseSchema, await s.getJob({ $typeName: 'dtf.scheduler.v1.GetJobRequest', jobId: i.params.job_id }, ctxFor(SchedulerService, 'GetJob', i.signal))) },
    { method: 'POST', path: '/api/jobs/{job_id}/cancel', handle: async (i) => out(CancelJobResponseSchema, await s.cancelJob({ $typeName: 'dtf.scheduler.v1.CancelJobRequest', jobId: i.params.job_id }, ctxFor(SchedulerService, 'CancelJob', i.signal))) },
    { method: 'GET', path: '/api/results/{task_id}', handle: async (i) => out(GetTaskResultResponseSchema, await res.getTaskResult({ $typeName: 'dtf.result.v1.GetTaskResultRequest', taskId: i.params.task_id }, ctxFor(ResultService, 'GetTaskResult', i.signal))) },
    { method: 'GET', path: '/api/status', handle: async (i) => ({ ...(out(GetStatusResponseSchema, await s.getStatus({ $typeName: 'dtf.scheduler.v1.GetStatusRequest' }, ctxFor(SchedulerService, 'GetStatus', i.signal))) as object), ...(await clusterView(impls, i.signal)) }) },
    { method: 'GET', path: '/api/workers', handle: async (i) => out(ListWorkersResponseSchema, await r.listWorkers({ ...parseBody(ListWorkersRequestSchema, {}), includeGone: i.query.get('include_gone') === 'true' }, ctxFor(RegistryService, 'ListWorkers', i.signal))) },
    { method: 'POST', path: '/api/workers/{worker_id}/clear_quarantine', handle: async (i) => out(ClearQuarantineResponseSchema, await r.clearQuarantine({ $typeName: 'dtf.registry.v1.ClearQuarantineRequest', workerId: i.params.worker_id }, ctxFor(RegistryService, 'ClearQuarantine', i.signal))) },
    { method: 'POST', path: '/api/workers/register', handle: async (i) => out(RegisterWorkerResponseSchema, await r.registerWorker(parseBody(RegisterWorkerRequestSchema, i.body), ctxFor(RegistryService, 'RegisterWorker', i.signal))) },
    { method: 'POST', path: '/api/workers/status', handle: async (i) => out(ReportWorkerStatusResponseSchema, await r.reportWorkerStatus(parseBody(ReportWorkerStatusRequestSchema, i.body), ctxFor(RegistryService, 'ReportWorkerStatus', i.signal))) },
    ...raftRoutes(impls),
  ];
}

/** The cluster part of /api/status: absent for a lone coordinator. */
async function clusterView(impls: CoordinatorImpls, signal: AbortSignal): Promise<{ cluster?: JsonValue }> {
  if (!impls.cluster) return {};
  const ctx = createHandlerContext({ service: ClusterService, method: ClusterService.method.getClusterStatus, protocolName: 'rest', requestMethod: 'GET', url: '', requestSignal: signal });
  try {
    return { cluster: out(GetClusterStatusResponseSchema, await impls.cluster.getClusterStatus(create(GetClusterStatusRequestSchema), ctx)) };
  } catch (e) {
    // A lone coordinator behind a proxying gateway serves no ClusterService.
    if (e instanceof ConnectError && e.code === Code.Unimplemented) return {};
    throw e;
  }
}

/**
 * /api/raft/*: Raft messages as JSON (dtf.raft.v1 messages), for peers that
 * cannot speak gRPC. Served where the gateway runs inside a cluster member;
 * elsewhere they answer what to use instead.
 */
function raftRoutes(impls: CoordinatorImpls): Route[] {
  const unserved = (name: string) => new ConnectError(
    `/api/raft/${name} is served only by a gateway inside a cluster member (dtf up --coordinators N); peers use the gRPC service dtf.raft.v1.RaftService on the coordinator's --peers address`,
    Code.Unimplemented,
  );
  const ctx = (name: string, signal: AbortSignal) => {
    const method = RaftService.methods.find((m) => m.name === name)!;
    return createHandlerContext({ service: RaftService, method, protocolName: 'rest', requestMethod: 'POST', url: '', requestSignal: signal });
  };
  return [
    { method: 'POST', path: '/api/raft/request_vote', handle: async (i) => {
      if (!impls.raft) throw unserved('request_vote');
      return out(RequestVoteResponseSchema, await impls.raft.requestVote(parseBody(RequestVoteRequestSchema, i.body), ctx('RequestVote', i.signal)));
    } },
    { method: 'POST', path: '/api/raft/append_entries', handle: async (i) => {
      if (!impls.raft) throw unserved('append_entries');
      const req = parseBody(AppendEntriesRequestSchema, i.body);
      return out(AppendEntriesResponseSchema, await impls.raft.appendEntries((async function* () { yield req; })(), ctx('AppendEntries', i.signal)));
    } },
    { method: 'POST', path: '/api/raft/sync_state', handle: async (i) => {
      if (!impls.raft) throw unserved('sync_state');
      return out(InstallSnapshotResponseSchema, await impls.raft.installSnapshot(parseBody(InstallSnapshotRequestSchema, i.body), ctx('InstallSnapshot', i.signal)));
    } },
  ];
}

/** Matches `path` against a route pattern with {param} segments. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const p = pattern.split('/');
  const a = path.split('/');
  if (p.length !== a.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith('{')) {
      if (!a[i]) return undefined;
      params[p[i].slice(1, -1)] = decodeURIComponent(a[i]);
    } else if (p[i] !== a[i]) return undefined;
  }
  return params;
}
