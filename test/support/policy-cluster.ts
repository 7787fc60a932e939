import * as fs from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import { Coordinator, type CoordinatorOptions } from '../../services/coordinator/coordinator';
import { Cluster } from './cluster';
import { eventually, startDtf, type DtfProcess } from './dtf-process';

/** One worker process of a {@link PolicyCluster}. */
export interface PolicyWorker {
  name: string;
  slots: number;
  /** `key=value` labels. */
  labels?: string[];
}

export interface PolicyClusterOptions {
  workers: PolicyWorker[];
  /** Anything but where it keeps data and listens: queue bounds, breaker, aging, cancel grace. */
  coordinator?: Omit<CoordinatorOptions, 'dataDir' | 'listen' | 'logger'>;
}

/**
 * A {@link Cluster} whose coordinator runs inside the test process, so that a
 * test can give it any policy (the `dtf coordinator` command line exposes
 * none). The gateway and the workers are still real `dtf` processes talking
 * gRPC to it, and no collector runs.
 *
 * Workers see a CPU only, whatever the machine has: a failing `nvidia-smi`
 * and `rocm-smi` come first on their PATH, and detection leaves out the
 * devices of a tool that fails.
 */
export class PolicyCluster extends Cluster {
  core!: Coordinator;
  private readonly fakeBin = path.join(this.dir, 'cpu-only-bin');

  constructor(readonly policy: PolicyClusterOptions) {
    super({ workers: policy.workers.length });
  }

  override async start(): Promise<this> {
    this.core = await Coordinator.start({
      ...this.policy.coordinator,
      dataDir: path.join(this.dir, 'coordinator'),
      listen: '127.0.0.1:0',
      liveness: { heartbeatIntervalMs: 300, workerLeaseMs: 3000, ...this.policy.coordinator?.liveness },
      logger: pino({ level: 'silent' }),
    });
    this.coordinatorPort = this.core.port;
    fs.mkdirSync(this.fakeBin);
    for (const tool of ['nvidia-smi', 'rocm-smi']) fs.writeFileSync(path.join(this.fakeBin, tool), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    this.gateway = startDtf('gateway', ['gateway', '--coordinator', this.coordinatorAddress, '--port', '0']);
    for (let i = 0; i < this.policy.workers.length; i++) this.workers.push(this.startWorker(i));
    this.gatewayUrl = (await this.gateway.waitFor(/(http:\/\/[\d.]+:\d+)/))[1];
    await this.workersOnline(this.policy.workers.length);
    return this;
  }

  /** Starts worker `i` of the options, or one more described by `w`. */
  override startWorker(i: number, w: PolicyWorker = this.policy.workers[i]): DtfProcess {
    return startDtf(`worker-${w.name}`, [
      'worker', '--coordinator', this.coordinatorAddress, '--data-dir', path.join(this.dir, `worker-${i + 1}`),
      '--slots', String(w.slots), '--name', w.name, ...(w.labels ?? []).flatMap((l) => ['--label', l]),
    ], { PATH: `${this.fakeBin}${path.delimiter}${process.env.PATH ?? ''}` });
  }

  async workersOnline(n: number): Promise<void> {
    await eventually(`${n} workers online`, async () => (await this.get('/api/workers')).workers.length === n);
  }

  /** The id of the worker named `name`. */
  async workerIdOf(name: string): Promise<string> {
    const { workers } = await this.get('/api/workers');
    const w = workers.find((x: { name: string }) => x.name === name);
    if (!w) throw new Error(`no worker named ${name} among ${JSON.stringify(workers.map((x: { name: string }) => x.name))}`);
    return w.id;
  }

  override async stop(): Promise<void> {
    await Promise.all([...this.workers, this.gateway].filter(Boolean).map((p) => p.stop()));
    await this.core?.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
