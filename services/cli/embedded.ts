import * as path from 'node:path';
import pino, { type Logger } from 'pino';
import { ResultService } from '../../libs/gen/dtf/result/v1/result_service_pb';
import { inProcessClient } from '../../libs/rpc/in-process-client';
import type { SchedulerPlugin } from '../../libs/scheduling/plugin';
import { Coordinator, type CoordinatorOptions } from '../coordinator/coordinator';
import type { LivenessOptions } from '../coordinator/worker-hub';
import { Gateway } from '../gateway/gateway';
import { Collector } from '../results/collector';
import { collectorService } from '../results/collector-service';
import { WorkerAgent } from '../worker/agent';
import { freePort } from '../../libs/net/free-port';

export interface EmbeddedOptions {
  dataDir: string;
  workers: number;
  /** Coordinators: 1 (default) keeps a local log; more form a Raft cluster on loopback ports. */
  coordinators?: number;
  /** Raft tick of a cluster (tests shorten it). */
  tickMs?: number;
  /** Slots of each local worker. */
  slots?: number;
  port: number;
  host?: string;
  liveness?: Partial<LivenessOptions>;
  logger?: Logger;
  /** Scheduler plug-ins for the coordinator (see libs/scheduling/README.md). */
  plugins?: SchedulerPlugin[];
  /** Aging, ranking and tenant weights; queue bounds and breaker. */
  scheduling?: CoordinatorOptions['scheduling'];
  policy?: CoordinatorOptions['policy'];
}

/** Every role in one process: `dtf up`. */
export interface Embedded {
  gatewayUrl: string;
  coordinatorAddress: string;
  coordinator: Coordinator;
  /** Every coordinator; the gateway and collector use the first, which forwards writes to the leader. */
  coordinators: Coordinator[];
  coordinatorAddresses: string[];
  collector: Collector;
  gateway: Gateway;
  agents: WorkerAgent[];
  stop(): Promise<void>;
}

/**
 * Starts a coordinator (gRPC on a free loopback port), the result collector
 * on a DuckDB file, the gateway, and `workers` local worker agents, all under
 * `dataDir`. Tasks still run as child processes.
 */
export async function startEmbedded(opts: EmbeddedOptions): Promise<Embedded> {
  const logger = opts.logger ?? pino({ level: process.env.DTF_LOG_LEVEL ?? 'warn' });
  const n = opts.coordinators ?? 1;
  const policy = { plugins: opts.plugins, scheduling: opts.scheduling, policy: opts.policy };
  let coordinators: Coordinator[];
  if (n === 1) {
    coordinators = [await Coordinator.start({
      dataDir: path.join(opts.dataDir, 'coordinator'),
      listen: '127.0.0.1:0',
      liveness: opts.liveness,
      logger: logger.child({ role: 'coordinator' }),
      ...policy,
    })];
  } else {
    const peers = new Map<number, string>();
    for (let id = 1; id <= n; id++) peers.set(id, `127.0.0.1:${await freePort()}`);
    coordinators = await Promise.all([...peers.keys()].map((id) => Coordinator.start({
      dataDir: path.join(opts.dataDir, `coordinator-${id}`),
      cluster: { id, peers, tickMs: opts.tickMs },
      liveness: opts.liveness,
      logger: logger.child({ role: 'coordinator', member: id }),
      ...policy,
    })));
  }
  const coordinator = coordinators[0];
  const coordinatorAddresses = coordinators.map((c) => `127.0.0.1:${c.port}`);
  const coordinatorAddress = coordinatorAddresses[0];
  const databasePath = path.join(opts.dataDir, 'results.duckdb');
  // Co-located, the collector reads the feed in-process: no encoding, no loopback socket.
  const collector = await Collector.start({
    coordinator: coordinatorAddress,
    databasePath,
    feed: inProcessClient(ResultService, coordinator.impls.results),
    logger: logger.child({ role: 'collector' }),
  });
  const gateway = new Gateway({
    impls: coordinator.impls,
    collector: collectorService(collector, databasePath),
    dataDir: opts.dataDir,
    port: opts.port,
    host: opts.host,
  });
  const gatewayUrl = await gateway.listen();
  const agents: WorkerAgent[] = [];
  for (let i = 0; i < opts.workers; i++) {
    const agent = new WorkerAgent({
      coordinators: [...coordinatorAddresses],
      dataDir: path.join(opts.dataDir, 'workers', String(i + 1)),
      slots: opts.slots ?? 1,
      name: `local-${i + 1}`,
      logger: logger.child({ role: 'worker', worker: i + 1 }),
    });
    agent.start();
    agents.push(agent);
  }
  await Promise.all(agents.map((a) => a.ready));
  return {
    gatewayUrl,
    coordinatorAddress,
    coordinator,
    coordinators,
    coordinatorAddresses,
    collector,
    gateway,
    agents,
    async stop() {
      await Promise.all(agents.map((a) => a.stop()));
      await gateway.close();
      await collector.stop();
      // The whole cluster stops: no point handing leadership to a member that is going away.
      await Promise.all(coordinators.map((c) => c.stop({ handOver: false })));
    },
  };
}
