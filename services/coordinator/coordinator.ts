import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ServiceImpl } from '@connectrpc/connect';
import pino, { type Logger } from 'pino';
import { WorkerState } from '../../libs/gen/dtf/common/v1/common_pb';
import { RegistryService } from '../../libs/gen/dtf/registry/v1/registry_service_pb';
import { ResultService } from '../../libs/gen/dtf/result/v1/result_service_pb';
import { SchedulerService, type GetStatusResponse } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { WorkerService } from '../../libs/gen/dtf/worker/v1/worker_service_pb';
import { ClusterService } from '../../libs/gen/dtf/raft/v1/cluster_service_pb';
import { RaftService } from '../../libs/gen/dtf/raft/v1/raft_service_pb';
import { FileLog } from '../../libs/log/file-log';
import type { ReplicatedLog } from '../../libs/log/replicated-log';
import { GrpcServer } from '../../libs/rpc/grpc-server';
import type { SchedulerPlugin } from '../../libs/scheduling/plugin';
import { CoordinatorState, type StateOptions } from '../../libs/state/coordinator-state';
import type { CoordinatorImpls } from '../gateway/service-impls';
import { registryService } from '../registry/registry-service';
import { resultService } from '../results/result-service';
import { schedulerService } from '../scheduler/scheduler-service';
import { ChangeNotifier } from './change-notifier';
import { ClusterMember, type ClusterOptions } from './cluster-member';
import { clusterService } from './cluster-service';
import { closeForwardTransports, routeToLeader, routing } from './route-to-leader';
import { raftService } from './raft-transport';
import { acquireLock, type Lock } from './data-dir-lock';
import { Dispatcher, type SchedulingOptions } from './dispatcher';
import { OutputStore } from './output-store';
import { defaultLiveness, WorkerHub, type LivenessOptions } from './worker-hub';
import { workerService } from './worker-service';

export const version = '0.1.0';
export type { ClusterOptions } from './cluster-member';

export interface CoordinatorOptions {
  dataDir: string;
  /** Run as a member of a Raft cluster; without it the coordinator keeps a local FileLog. */
  cluster?: ClusterOptions;
  /** host:port for gRPC; port 0 picks a free one. Omit to serve nothing (in-process use). */
  listen?: string;
  liveness?: Partial<LivenessOptions>;
  logger?: Logger;
  now?: () => number;
  /** Site plug-ins: extra feasibility checkers and rankers. */
  plugins?: SchedulerPlugin[];
  /** Aging, ranking per pool and tenant weights. */
  scheduling?: Partial<Omit<SchedulingOptions, 'plugins'>>;
  /** Queue bounds and circuit breaker: every replica must use the same. */
  policy?: Partial<StateOptions>;
  /** How long a cancelled task's process group has between SIGTERM and SIGKILL; default {@link cancelGraceMsDefault}. */
  cancelGraceMs?: number;
}

export const cancelGraceMsDefault = 5000;

/**
 * One coordinator: the state machine behind its log, the worker hub, the
 * dispatcher and the gRPC services. The same object runs alone or inside
 * `dtf up`.
 */
export class Coordinator {
  /** Replaced when a member installs a snapshot from its leader. */
  state: CoordinatorState;
  readonly changes = new ChangeNotifier();
  readonly logger: Logger;
  readonly now: () => number;
  readonly outputs: OutputStore;
  hub!: WorkerHub;
  dispatcher!: Dispatcher;
  log!: ReplicatedLog;
  /** Set when this coordinator is a member of a Raft cluster. */
  cluster: ClusterMember | undefined;
  server: GrpcServer | undefined;
  port = 0;
  /** Submissions refused because a queue bound was reached. */
  shed = 0;
  private timer: NodeJS.Timeout | undefined;
  private checkingDeadlines = false;
  private startsPerSecond = 0;
  private rateSample = { atMs: 0, placed: 0 };
  private lock: Lock | undefined;
  private readonly startedMs: number;

  private constructor(private readonly opts: CoordinatorOptions) {
    this.logger = opts.logger ?? pino({ name: 'coordinator' });
    this.now = opts.now ?? Date.now;
    this.outputs = new OutputStore(path.join(opts.dataDir, 'output'));
    this.startedMs = this.now();
    this.state = new CoordinatorState(opts.policy);
  }

  static async start(opts: CoordinatorOptions): Promise<Coordinator> {
    const c = new Coordinator(opts);
    await c.init();
    return c;
  }

  /** Service implementations, for serving in-process (the gateway in `dtf up`). */
  readonly impls: CoordinatorImpls & { worker: ServiceImpl<typeof WorkerService> } = {
    scheduler: routeToLeader(SchedulerService, schedulerService(this), this, routing.scheduler),
    registry: routeToLeader(RegistryService, registryService(this), this, routing.registry),
    results: routeToLeader(ResultService, resultService(this), this, routing.results),
    worker: workerService(this),
  };

  /** True when this coordinator may change the log: always for a lone one. */
  get leading(): boolean {
    return this.cluster ? this.cluster.leading : true;
  }

  private async init(): Promise<void> {
    fs.mkdirSync(this.opts.dataDir, { recursive: true });
    this.lock = acquireLock(path.join(this.opts.dataDir, 'coordinator.lock'));
    const t0 = Date.now();
    if (this.opts.cluster) {
      this.cluster = new ClusterMember(this, this.opts.cluster, path.join(this.opts.dataDir, 'raft'));
      this.log = this.cluster.host;
      this.cluster.host.replay();
      this.impls.cluster = clusterService(this, this.cluster);
      this.impls.raft = raftService(this.cluster);
    } else {
      this.log = await FileLog.open(
        path.join(this.opts.dataDir, 'coordinator.log'),
        (index, cmd) => this.state.apply(index, cmd),
        (msg) => this.logger.warn(msg),
      );
    }
    this.logger.info({ entries: String(this.log.appliedIndex()), ms: Date.now() - t0 }, 'log replayed');
    this.resetSoftState();
    const liveness = this.hub.liveness;
    this.timer = setInterval(() => {
      if (!this.leading) return;
      this.hub.expireSilent().catch((e) => this.logger.error({ err: (e as Error).message }, 'liveness check failed'));
      this.checkDeadlines();
      this.sampleStartRate();
    }, Math.max(100, Math.floor(liveness.heartbeatIntervalMs / 2)));
    const listen = this.opts.listen ?? this.cluster?.ownAddress;
    if (listen !== undefined) {
      this.server = new GrpcServer()
        .add(WorkerService, this.impls.worker)
        .add(SchedulerService, this.impls.scheduler)
        .add(RegistryService, this.impls.registry)
        .add(ResultService, this.impls.results);
      if (this.impls.raft && this.impls.cluster) this.server.add(RaftService, this.impls.raft).add(ClusterService, this.impls.cluster);
      this.port = await this.server.listen(listen);
      this.logger.info({ port: this.port }, 'coordinator listening');
    }
    this.cluster?.start();
    if (this.leading) this.dispatcher.kick();
  }

  /**
   * Starts the leader's soft state afresh: a new worker hub (every known
   * worker gets one full lease to reconnect before it is declared lost) and
   * a new dispatcher. Called at start, when this member becomes leader, and
   * after a snapshot replaced the state.
   */
  resetSoftState(): void {
    const liveness = { ...defaultLiveness, ...this.opts.liveness };
    if (this.hub) {
      this.dispatcher.stop();
      for (const s of this.hub.sessions.values()) s.close();
    }
    this.hub = new WorkerHub(this.state, this.log, this.now, liveness);
    this.dispatcher = new Dispatcher(
      this.state, this.log, this.hub,
      (e) => this.logger.error({ err: e.message }, 'scheduling round failed'),
      this.now,
      { ...this.opts.scheduling, plugins: this.opts.plugins ?? [] },
    );
    this.hub.onCapacity = () => this.dispatcher.kick();
    this.hub.pushedTo = (workerId, key) => this.dispatcher.pushedTo(workerId, key);
    this.state.events.onAppend = () => this.changes.notify();
    if (this.leading) this.dispatcher.kick();
    else this.dispatcher.stop();
  }

  /** Waits until reads served here are linearizable (ReadIndex); immediate for a lone coordinator. */
  async readBarrier(): Promise<void> {
    await this.cluster?.readBarrier();
  }

  /** Proposes a deadline check when a pending task can no longer start in time. */
  private checkDeadlines(): void {
    if (this.checkingDeadlines || !this.state.deadlinesDue(this.now())) return;
    this.checkingDeadlines = true;
    this.log.propose(this.hub.command({ case: 'checkDeadlines', value: { $typeName: 'dtf.state.v1.CheckDeadlines' } }))
      // Warnings are no feed events: wake the job watchers so they tell their users.
      .then(() => this.changes.notify())
      .catch((e: Error) => this.logger.error({ err: e.message }, 'deadline check failed'))
      .finally(() => { this.checkingDeadlines = false; });
  }

  /**
   * Seconds a refused submitter of `tasks` tasks should wait: the time the
   * recent start rate takes to free that much room, within 1 s to 5 min.
   */
  retryAfterSeconds(tasks: number): number {
    if (this.startsPerSecond <= 0) return 30;
    return Math.min(300, Math.max(1, Math.ceil(tasks / this.startsPerSecond)));
  }

  /** Folds the last interval's task starts into the moving start rate. */
  private sampleStartRate(): void {
    const now = this.now();
    const dt = (now - this.rateSample.atMs) / 1000;
    if (dt < 1) return;
    const rate = (this.dispatcher.placed - this.rateSample.placed) / dt;
    this.startsPerSecond = this.startsPerSecond === 0 ? rate : this.startsPerSecond + 0.2 * (rate - this.startsPerSecond);
    this.rateSample = { atMs: now, placed: this.dispatcher.placed };
  }

  /** Cancels tasks and tells the workers running them to stop. */
  async cancel(taskIds: string[], reason: string): Promise<void> {
    const res = await this.log.propose(this.hub.command({ case: 'cancelTasks', value: { $typeName: 'dtf.state.v1.CancelTasks', taskIds, reason } }));
    if (res.kind !== 'cancelled') return;
    for (const r of res.running) {
      this.hub.sessions.get(r.workerId)?.send({ case: 'cancel', value: { $typeName: 'dtf.worker.v1.Cancel', keys: [r.key], graceMs: this.opts.cancelGraceMs ?? cancelGraceMsDefault } });
    }
  }

  status(): GetStatusResponse {
    let online = 0;
    let quarantined = 0;
    for (const w of this.state.workers.values()) {
      if (w.state === WorkerState.ONLINE) online++;
      if (w.state === WorkerState.ONLINE && w.breaker?.quarantined) quarantined++;
    }
    let running = 0;
    let active = 0;
    for (const j of this.state.jobs.values()) {
      running += j.job.counts?.running ?? 0;
      if ((j.job.counts?.pending ?? 0) + (j.job.counts?.running ?? 0) > 0) active++;
    }
    return {
      $typeName: 'dtf.scheduler.v1.GetStatusResponse',
      workersOnline: online,
      workersTotal: this.state.workers.size,
      tasksPending: this.state.pendingCount,
      tasksRunning: running,
      jobsActive: active,
      appliedIndex: this.log.appliedIndex(),
      staleResultsRejected: BigInt(this.state.staleRejected),
      role: this.cluster ? this.cluster.role : 'leader',
      version,
      uptimeMs: BigInt(this.now() - this.startedMs),
      staleUpdatesRejected: BigInt(this.hub.staleUpdates),
      workersQuarantined: quarantined,
      submissionsShed: BigInt(this.shed),
      assignmentsWithdrawn: BigInt(this.dispatcher.withdrawn),
    };
  }

  /** Stops serving; a cluster leader first hands over (unless the whole cluster is stopping). */
  async stop(opts: { handOver?: boolean } = {}): Promise<void> {
    // A leader hands over first, so the cluster does not wait out an election timeout.
    if (opts.handOver !== false) await this.cluster?.handOver();
    clearInterval(this.timer);
    this.dispatcher.stop();
    for (const s of this.hub.sessions.values()) s.close();
    this.changes.notify();
    await this.server?.stop();
    await this.log.close();
    if (this.cluster) {
      this.cluster.storage.close();
      closeForwardTransports();
    }
    this.lock?.release();
  }
}
