import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DtfProcess, eventually, freePort, startDtf } from './dtf-process';

export interface ClusterOptions {
  workers: number;
  slots?: number;
  heartbeatMs?: number;
  leaseMs?: number;
  /** Extra flags per worker, e.g. labels. */
  workerArgs?: (i: number) => string[];
}

/**
 * A real DTF deployment on loopback: coordinator, workers, collector and
 * gateway, each its own `dtf` process, with data in a temp directory.
 */
export class Cluster {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtf-e2e-'));
  coordinator!: DtfProcess;
  collector!: DtfProcess;
  gateway!: DtfProcess;
  workers: DtfProcess[] = [];
  coordinatorPort = 0;
  collectorPort = 0;
  gatewayUrl = '';

  constructor(readonly opts: ClusterOptions) {}

  get coordinatorAddress(): string {
    return `127.0.0.1:${this.coordinatorPort}`;
  }

  get dbPath(): string {
    return path.join(this.dir, 'results.duckdb');
  }

  async start(): Promise<this> {
    this.coordinatorPort = await freePort();
    await this.startCoordinator();
    this.collector = startDtf('collector', ['results', '--coordinator', this.coordinatorAddress, '--db', this.dbPath, '--listen', '127.0.0.1:0']);
    this.collectorPort = Number((await this.collector.waitFor(/listening on [\d.]+:(\d+)/))[1]);
    this.gateway = startDtf('gateway', ['gateway', '--coordinator', this.coordinatorAddress, '--collector', `127.0.0.1:${this.collectorPort}`, '--port', '0']);
    this.gatewayUrl = (await this.gateway.waitFor(/(http:\/\/[\d.]+:\d+)/))[1];
    for (let i = 0; i < this.opts.workers; i++) this.workers.push(this.startWorker(i));
    await eventually('workers online', async () => (await this.get('/api/workers')).workers.length === this.opts.workers);
    return this;
  }

  async startCoordinator(): Promise<void> {
    this.coordinator = startDtf('coordinator', [
      'coordinator', '--listen', this.coordinatorAddress, '--data-dir', path.join(this.dir, 'coordinator'),
      '--heartbeat-ms', String(this.opts.heartbeatMs ?? 300), '--lease-ms', String(this.opts.leaseMs ?? 3000),
    ]);
    await this.coordinator.waitFor(/coordinator listening/);
  }

  startWorker(i: number): DtfProcess {
    return startDtf(`worker-${i + 1}`, [
      'worker', '--coordinator', this.coordinatorAddress, '--data-dir', path.join(this.dir, `worker-${i + 1}`),
      '--slots', String(this.opts.slots ?? 2), '--name', `w${i + 1}`, ...(this.opts.workerArgs?.(i) ?? []),
    ]);
  }

  /** The worker id a worker process stored on its disk. */
  workerId(i: number): string {
    return fs.readFileSync(path.join(this.dir, `worker-${i + 1}`, 'worker-id'), 'utf8').trim();
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async get(p: string): Promise<any> {
    const res = await fetch(this.gatewayUrl + p);
    const body = await res.json();
    if (!res.ok) throw new Error(`GET ${p}: ${res.status} ${JSON.stringify(body)}`);
    return body;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async post(p: string, body: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(this.gatewayUrl + p, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    return { status: res.status, body: await res.json() };
  }

  /** Waits until every task of a job is final; returns the job's tasks. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async waitForJob(jobId: string, timeoutMs = 60_000): Promise<any[]> {
    return eventually(`job ${jobId} to finish`, async () => {
      const { tasks } = await this.get(`/api/tasks?job_id=${jobId}&page_size=1000`);
      const done = tasks.every((t: { state: string }) => /SUCCEEDED|FAILED|CANCELLED|ERRORED/.test(t.state));
      return done ? tasks : undefined;
    }, timeoutMs, 200);
  }

  /** Output of every process, for failure messages. */
  logs(): string {
    return [this.coordinator, this.collector, this.gateway, ...this.workers].filter(Boolean).map((p) => `--- ${p.label}\n${p.output.slice(-4000)}`).join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all([...this.workers, this.gateway, this.collector, this.coordinator].filter(Boolean).map((p) => p.stop()));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
