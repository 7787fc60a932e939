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

export interface EmbeddedOptions {
  dataDir: string;
  workers: number;
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
  const coordinator = await Coordinator.start({
    dataDir: path.join(opts.dataDir, 'coordinator'),
    listen: '127.0.0.1:0',
    liveness: opts.liveness,
    logger: logger.child({ role: 'coordinator' }),
    plugins: opts.plugins,
    scheduling: opts.scheduling,
    policy: opts.policy,
  });
  const coordinatorAddress = `127.0.0.1:${coordinator.port}`;
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
      coordinators: [coordinatorAddress],
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
    collector,
    gateway,
    agents,
    async stop() {
      await Promise.all(agents.map((a) => a.stop()));
      await gateway.close();
      await collector.stop();
      await coordinator.stop();
    },
  };
}
