import { createClient } from '@connectrpc/connect';
import type { Command } from 'commander';
import * as path from 'node:path';
import pino from 'pino';
import { ClusterService } from '../../libs/gen/dtf/raft/v1/cluster_service_pb';
import { RegistryService } from '../../libs/gen/dtf/registry/v1/registry_service_pb';
import { loadPlugins, pluginPaths } from '../../libs/scheduling/load-plugins';
import type { SchedulerPlugin } from '../../libs/scheduling/plugin';
import { CollectorService, ResultService } from '../../libs/gen/dtf/result/v1/result_service_pb';
import { SchedulerService } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { GrpcServer } from '../../libs/rpc/grpc-server';
import { createGrpcTransport } from '../../libs/rpc/grpc-transport';
import { clusterDefaults, type ClusterOptions } from '../coordinator/cluster-member';
import { Coordinator } from '../coordinator/coordinator';
import { parsePeers } from '../coordinator/parse-peers';
import { Gateway } from '../gateway/gateway';
import { proxyImpl } from '../gateway/service-impls';
import { Collector } from '../results/collector';
import { collectorService } from '../results/collector-service';
import { WorkerAgent } from '../worker/agent';
import { parseLabels } from '../worker/parse-labels';
import { makeClients } from './clients';
import { startEmbedded } from './embedded';
import { addSchedulingFlags, schedulingOptions, type SchedulingFlags } from './scheduling-flags';
import { runSuite } from './run-suite';

const logger = () => pino({ level: process.env.DTF_LOG_LEVEL ?? 'info' });

function int(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max}, not "${v}"`);
    return n;
  };
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];
}

function repeat(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

/** Loads the plug-ins named by --scheduler-plugin or $DTF_SCHEDULER_PLUGINS, and says which were loaded. */
function schedulerPlugins(flagValues: string[] | undefined): SchedulerPlugin[] {
  const plugins = loadPlugins(pluginPaths(flagValues ?? []));
  if (plugins.length > 0) console.log(`scheduler plug-ins: ${plugins.map((p) => p.name).join(', ')}`);
  return plugins;
}

const pluginFlagHelp = 'load a scheduler plug-in (checkers and rankers) from this .js or .ts file; repeatable (default: $DTF_SCHEDULER_PLUGINS, comma-separated)';

/** Stops `stop` on SIGINT/SIGTERM, once. */
function onSignals(stop: (signal: string) => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    stop(signal).then(() => process.exit(process.exitCode ?? 0), (e) => {
      console.error(`dtf: shutdown failed: ${(e as Error).message}`);
      process.exit(1);
    });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** Adds the commands that run DTF's roles: up, coordinator, worker, results, gateway. */
export function serveCommands(program: Command): void {
  const up = program.command('up')
    .description('run every role in one process with local workers, data in --data-dir, and print the gateway URL')
    .option('--workers <n>', 'local workers to start', int('--workers', 0, 64), 2)
    .option('--coordinators <n>', 'coordinators: 1 keeps a local log; 3 or 5 form a Raft cluster in this process', int('--coordinators', 1, 7), 1)
    .option('--slots <n>', 'tasks each local worker runs at once', int('--slots', 1, 1024), 1)
    .option('--data-dir <dir>', 'where the log, DuckDB file and worker data live', './.dtf')
    .option('--port <port>', 'gateway port; 0 picks a free one', int('--port', 0, 65535), 8080)
    .option('--host <host>', 'gateway address (security is off: keep it on loopback)', '127.0.0.1')
    .option('--run <suite>', 'run this suite file once everything is up')
    .option('--once', 'with --run: stop after the run and exit with its code')
    .option('--scheduler-plugin <file>', pluginFlagHelp, repeat);
  addSchedulingFlags(up)
    .action(async (o: { workers: number; coordinators: number; slots: number; dataDir: string; port: number; host: string; run?: string; once?: boolean; schedulerPlugin?: string[] } & SchedulingFlags) => {
      const plugins = schedulerPlugins(o.schedulerPlugin);
      const e = await startEmbedded({
        dataDir: path.resolve(o.dataDir), workers: o.workers, coordinators: o.coordinators, slots: o.slots, port: o.port, host: o.host, plugins, ...schedulingOptions(o),
      });
      const who = o.coordinators > 1 ? `coordinators ${e.coordinatorAddresses.join(', ')}` : `coordinator ${e.coordinatorAddress}`;
      console.log(`dtf up: ${who}, ${o.workers} local workers, data in ${path.resolve(o.dataDir)}; gateway:`);
      console.log(e.gatewayUrl);
      onSignals(async () => e.stop());
      if (!o.run) return;
      const clients = makeClients({ gateway: e.gatewayUrl });
      const code = await runSuite(clients, o.run);
      if (o.once) {
        await e.stop();
        process.exit(code);
      }
      console.log(`\nstill serving at ${e.gatewayUrl} (Ctrl-C to stop)`);
    });

  const coordinator = program.command('coordinator')
    .description('run a coordinator: scheduler and registry over the local log, or with --id and --peers a member of a Raft cluster')
    .option('--listen <host:port>', 'gRPC address for workers, collector, gateway and peers (default: 127.0.0.1:7070, or this member\'s --peers address)')
    .option('--data-dir <dir>', 'where the log lives', './.dtf/coordinator')
    .option('--heartbeat-ms <ms>', 'how often workers send heartbeats', int('--heartbeat-ms', 50, 60_000), 2000)
    .option('--lease-ms <ms>', 'a worker silent this long is lost', int('--lease-ms', 100, 600_000), 10_000)
    .option('--id <n>', 'cluster: this member\'s id (a positive integer)', int('--id', 1, 1_000_000))
    .option('--peers <list>', 'cluster: every founding member as id=host:port, comma-separated, this one included (with --join: the current members and this one)')
    .option('--join', 'cluster: start empty and wait to be added with `dtf cluster add` instead of founding a cluster with --peers')
    .option('--tick-ms <ms>', 'cluster: Raft tick; a leader silent for 10–20 ticks is replaced', int('--tick-ms', 5, 10_000), clusterDefaults.tickMs)
    .option('--snapshot-entries <n>', 'cluster: snapshot the state every n applied entries and compact the log', int('--snapshot-entries', 10, 100_000_000), clusterDefaults.snapshotEntries)
    .option('--scheduler-plugin <file>', pluginFlagHelp, repeat);
  addSchedulingFlags(coordinator)
    .action(async (o: CoordinatorCommandOptions & SchedulingFlags & { schedulerPlugin?: string[] }) => {
      const cluster = clusterOptions(o);
      const plugins = schedulerPlugins(o.schedulerPlugin);
      const c = await Coordinator.start({
        dataDir: path.resolve(o.dataDir), listen: o.listen ?? (cluster ? undefined : '127.0.0.1:7070'), cluster,
        liveness: { heartbeatIntervalMs: o.heartbeatMs, workerLeaseMs: o.leaseMs }, logger: logger(), plugins, ...schedulingOptions(o),
      });
      const host = (o.listen ?? c.cluster?.ownAddress ?? '127.0.0.1:7070').replace(/:\d+$/, '');
      console.log(`coordinator listening on ${host}:${c.port}${cluster ? ` as member ${cluster.id} of ${cluster.join ? 'a cluster it waits to join' : `${cluster.peers.size} founding members`}` : ''}`);
      onSignals(async () => c.stop());
    });

  program.command('worker')
    .description('run a worker: detect hardware, connect, run what the coordinator pushes')
    .requiredOption('--coordinator <host:port>', 'coordinator address; repeat or comma-separate for several', collect, [])
    .option('--data-dir <dir>', 'worker id, pending results and task directories', './.dtf/worker')
    .option('--slots <n>', 'tasks run at once (default: CPU cores)', int('--slots', 1, 1024))
    .option('--label <key=value>', 'a label for matching; repeatable', (v: string, p: string[]) => [...p, v], [])
    .option('--name <name>', 'display name (default: host name)')
    .option('--task-timeout-ms <ms>', 'timeout of tasks that set none', int('--task-timeout-ms', 1000, 7 * 24 * 3600 * 1000))
    .option('--prefetch <n>', 'tasks taken beyond --slots, started the moment a slot frees (hides dispatch latency; they skip later higher-priority work); refilled once half are taken, so work arrives in batches', int('--prefetch', 0, 1024), 0)
    .action(async (o: { coordinator: string[]; dataDir: string; slots?: number; label: string[]; name?: string; taskTimeoutMs?: number; prefetch: number }) => {
      const agent = new WorkerAgent({
        coordinators: o.coordinator, dataDir: path.resolve(o.dataDir), slots: o.slots, labels: parseLabels(o.label),
        name: o.name, taskTimeoutMs: o.taskTimeoutMs, logger: logger(), prefetch: o.prefetch,
      });
      agent.start();
      console.log(`worker ${agent.workerId} connecting to ${o.coordinator.join(', ')}`);
      // SIGTERM drains: no new work, running tasks finish and are acknowledged.
      onSignals(async (signal) => (signal === 'SIGTERM' ? agent.drain() : agent.stop()));
    });

  program.command('gateway')
    .description('run the REST/Connect gateway in front of a coordinator')
    .requiredOption('--coordinator <host:port>', 'coordinator address')
    .option('--collector <host:port>', 'result collector address, for /api/health/db and result queries')
    .option('--port <port>', 'HTTP port; 0 picks a free one', int('--port', 0, 65535), 8080)
    .option('--host <host>', 'HTTP address', '127.0.0.1')
    .action(async (o: { coordinator: string; collector?: string; port: number; host: string }) => {
      const t = createGrpcTransport(o.coordinator);
      const ct = o.collector ? createGrpcTransport(o.collector) : undefined;
      const gateway = new Gateway({
        impls: {
          scheduler: proxyImpl(SchedulerService, createClient(SchedulerService, t)),
          registry: proxyImpl(RegistryService, createClient(RegistryService, t)),
          results: proxyImpl(ResultService, createClient(ResultService, t)),
          cluster: proxyImpl(ClusterService, createClient(ClusterService, t)),
        },
        collector: ct ? proxyImpl(CollectorService, createClient(CollectorService, ct)) : undefined,
        port: o.port,
        host: o.host,
      });
      console.log(await gateway.listen());
      onSignals(async () => {
        await gateway.close();
        t.close();
        ct?.close();
      });
    });
}

interface CoordinatorCommandOptions {
  listen?: string;
  dataDir: string;
  heartbeatMs: number;
  leaseMs: number;
  id?: number;
  peers?: string;
  join?: boolean;
  tickMs: number;
  snapshotEntries: number;
}

/** The cluster flags as ClusterOptions, or undefined for a lone coordinator; names what is missing. */
function clusterOptions(o: CoordinatorCommandOptions): ClusterOptions | undefined {
  if (o.id === undefined && o.peers === undefined && !o.join) return undefined;
  if (o.id === undefined) throw new Error('coordinator: --peers and --join need --id, this member\'s id');
  if (o.peers === undefined) throw new Error('coordinator: --id needs --peers id=host:port,... (with --join: the current members and this one)');
  const peers = parsePeers(o.peers);
  if (!peers.has(o.id)) throw new Error(`coordinator: --peers does not list --id ${o.id}; include this member as ${o.id}=host:port`);
  return { id: o.id, peers, join: o.join, tickMs: o.tickMs, snapshotEntries: o.snapshotEntries, compactionKeepEntries: Math.min(clusterDefaults.compactionKeepEntries, Math.floor(o.snapshotEntries / 2)) };
}

export interface CollectorCommandOptions {
  coordinator?: string;
  db: string;
  listen: string;
}

/** `dtf results` without a job: runs the result collector until a signal. */
export async function runCollector(o: CollectorCommandOptions): Promise<void> {
  if (!o.coordinator) throw new Error('dtf results: give a job id to show its results, or --coordinator host:port to run the collector');
  const db = path.resolve(o.db);
  const c = await Collector.start({ coordinator: o.coordinator, databasePath: db, logger: logger() });
  const server = new GrpcServer().add(CollectorService, collectorService(c, db));
  const port = await server.listen(o.listen);
  console.log(`collector writing ${db}; listening on ${o.listen.replace(/:\d+$/, '')}:${port}`);
  onSignals(async () => {
    await server.stop();
    await c.stop();
  });
}
