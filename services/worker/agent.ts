import { create } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import pino from 'pino';
import { AttemptOutcome, AttemptResultSchema, LoadSchema, type AttemptKey, type AttemptResult, type Hardware } from '../../libs/gen/dtf/common/v1/common_pb';
import {
  ConnectRequestSchema,
  HelloSchema,
  OutputStream,
  WorkerService,
  type Assignment,
  type ConnectRequest,
  type Hello,
  type ConnectResponse,
} from '../../libs/gen/dtf/worker/v1/worker_service_pb';
import { AsyncQueue } from '../../libs/rpc/async-queue';
import { createGrpcTransport } from '../../libs/rpc/grpc-transport';
import { detectHardware } from './detect-hardware';
import { DeviceLeases } from './device-leases';
import { ResultOutbox } from './result-outbox';
import { runTask, type RunningTask } from './run-task';

export interface WorkerAgentOptions {
  /** Coordinators to try, in order, as host:port. */
  coordinators: string[];
  dataDir: string;
  slots?: number;
  name?: string;
  labels?: Record<string, string>;
  /** Default timeout of tasks that set none. */
  taskTimeoutMs?: number;
  logger?: Logger;
  /** Hardware to report instead of detecting it (tests, simulated workers). */
  hardware?: Hardware;
  /**
   * Assignments taken beyond `slots`, waiting here to start the moment a
   * slot frees: the worker never idles while a result is committed and the
   * next task chosen. 0 (the default) takes only what it can start.
   */
  prefetch?: number;
}

export const reconnectBackoffMinMs = 100;
export const reconnectBackoffMaxMs = 5000;
export const taskTimeoutMsDefault = 30 * 60 * 1000;

const keyOf = (k: AttemptKey) => `${k.taskId}#${k.attempt}`;

/**
 * The worker agent: holds one stream to a coordinator, runs what it is
 * pushed as child processes, and keeps every finished result on disk until
 * the coordinator acknowledges it, re-sending after each reconnect.
 */
export class WorkerAgent {
  readonly workerId: string;
  private readonly running = new Map<string, { key: AttemptKey; task: RunningTask }>();
  private readonly outbox: ResultOutbox;
  private readonly logger: Logger;
  private readonly slots: number;
  private readonly prefetch: number;
  /** Accepted assignments waiting for a slot (prefetched). */
  private readonly waiting: Assignment[] = [];
  private out: AsyncQueue<ConnectRequest> | undefined;
  private stopped = false;
  private draining = false;
  private heartbeatMs = 2000;
  private hardware: Hardware | undefined;
  /** Which accelerator each running attempt holds; set once the hardware is known. */
  private devices = new DeviceLeases([]);
  private loopDone: Promise<void> | undefined;
  private abort = new AbortController();
  /** Where a coordinator that does not lead told us to go next. */
  private redirectTo: string | undefined;
  /** Resolves once connected and welcomed the first time. */
  readonly ready: Promise<void>;
  private markReady!: () => void;

  constructor(private readonly opts: WorkerAgentOptions) {
    fs.mkdirSync(opts.dataDir, { recursive: true });
    this.workerId = loadWorkerId(opts.dataDir);
    this.outbox = new ResultOutbox(path.join(opts.dataDir, 'outbox'));
    this.logger = opts.logger ?? pino({ name: 'worker' });
    this.slots = opts.slots ?? Math.max(1, os.availableParallelism());
    this.prefetch = Math.max(0, Math.floor(opts.prefetch ?? 0));
    this.ready = new Promise((r) => (this.markReady = r));
  }

  start(): void {
    this.loopDone = this.loop();
  }

  /** Attempts running now. */
  get runningCount(): number {
    return this.running.size;
  }

  private async loop(): Promise<void> {
    this.hardware = this.opts.hardware ?? (await detectHardware({ onWarning: (m: string) => this.logger.warn(m) }));
    this.devices = new DeviceLeases(this.hardware.devices);
    let failures = 0;
    while (!this.stopped) {
      const redirected = this.redirectTo;
      this.redirectTo = undefined;
      const address = redirected ?? this.opts.coordinators[failures % this.opts.coordinators.length];
      const welcomed = await this.session(address).catch((e: Error) => {
        if (!this.stopped) this.logger.warn({ coordinator: address, err: e.message }, 'stream to coordinator ended');
        return false;
      });
      if (this.stopped) break;
      failures = welcomed ? 0 : failures + 1;
      if (this.redirectTo && failures < 3) continue; // Two members that disagree on the leader must not make us spin.
      const backoff = Math.min(reconnectBackoffMaxMs, reconnectBackoffMinMs * 2 ** Math.min(failures, 10));
      await sleep(backoff * (0.5 + Math.random() / 2), this.abort.signal);
    }
  }

  /** One connection; true when it got as far as a welcome. */
  private async session(address: string): Promise<boolean> {
    const transport = createGrpcTransport(address);
    const out = new AsyncQueue<ConnectRequest>();
    let welcomed = false;
    const beat = setInterval(() => this.heartbeat(), this.heartbeatMs);
    try {
      const client = createClient(WorkerService, transport);
      out.push(create(ConnectRequestSchema, { msg: { case: 'hello', value: this.hello() } }));
      this.out = out;
      const responses = client.connect(out, { signal: this.abort.signal });
      for await (const resp of responses) {
        if (resp.msg.case === 'welcome') {
          welcomed = true;
          this.logger.info({ coordinator: address, worker: this.workerId, epoch: String(resp.msg.value.sessionEpoch) }, 'connected');
          this.markReady();
        }
        this.handle(resp.msg);
      }
      return welcomed;
    } finally {
      clearInterval(beat);
      if (this.out === out) this.out = undefined;
      out.end();
      transport.close();
    }
  }

  private hello(): Hello {
    const credits = this.slots + this.prefetch;
    const free = this.draining ? 0 : Math.max(0, credits - this.running.size - this.waiting.length);
    return create(HelloSchema, {
      workerId: this.workerId,
      name: this.opts.name ?? os.hostname(),
      hardware: this.hardware,
      labels: this.opts.labels ?? {},
      slots: credits,
      freeSlots: free,
      prefetch: this.prefetch,
      running: this.runningKeys(),
      unackedResults: this.outbox.list(),
      version: '0.1.0',
    });
  }

  private handle(msg: ConnectResponse['msg']): void {
    switch (msg.case) {
      case 'welcome':
        this.heartbeatMs = msg.value.heartbeatIntervalMs || this.heartbeatMs;
        break;
      case 'assign':
        for (const a of msg.value.assignments) this.startAttempt(a);
        break;
      case 'cancel':
        for (const k of msg.value.keys) {
          const i = this.waiting.findIndex((a) => keyOf(a.key!) === keyOf(k));
          if (i >= 0) this.unrun(this.waiting.splice(i, 1)[0].key!, AttemptOutcome.CANCELLED, 'cancelled before it started');
          else this.running.get(keyOf(k))?.task.cancel(msg.value.graceMs || 5000);
        }
        break;
      case 'ack':
      case 'reject':
        for (const k of msg.value.keys) void this.outbox.remove(k);
        if (msg.case === 'reject') this.logger.warn({ keys: msg.value.keys.map(keyOf), reason: msg.value.reason }, 'results rejected');
        break;
      case 'drain':
        this.draining = true;
        this.handBackWaiting();
        break;
      case 'redirect':
        // Follow it at once on the next connection (the list itself stays as configured).
        if (msg.value.address) this.redirectTo = msg.value.address;
        this.out?.end();
        break;
      default:
        break;
    }
  }

  /** Reports an attempt that never ran. */
  private unrun(key: AttemptKey, outcome: AttemptOutcome, why: string): void {
    const now = BigInt(Date.now());
    void this.finished(key, create(AttemptResultSchema, { key, outcome, error: `worker ${this.workerId}: ${why}`, startedAtMs: now, finishedAtMs: now }));
  }

  private handBackWaiting(): void {
    for (const a of this.waiting.splice(0)) this.unrun(a.key!, AttemptOutcome.HANDED_BACK, 'draining; handed back unrun');
  }

  private startAttempt(a: Assignment): void {
    const key = a.key!;
    if (this.running.has(keyOf(key)) || this.waiting.some((w) => keyOf(w.key!) === keyOf(key))) {
      // Pushed again while this worker has it (the coordinator placed it anew
      // after the log refused an earlier push): the run under way counts, and
      // the credit spent on this push comes back now, not with a result.
      if (!this.draining) this.send({ case: 'credit', value: { $typeName: 'dtf.worker.v1.Credit', grant: 1 } });
      return;
    }
    if (this.draining) {
      // Pushed before the coordinator heard we drain: hand it back unrun.
      this.unrun(key, AttemptOutcome.HANDED_BACK, 'draining; handed back unrun');
      return;
    }
    if (this.running.size >= this.slots) {
      this.waiting.push(a);
      this.send({ case: 'accepted', value: { $typeName: 'dtf.worker.v1.Accepted', keys: [key] } });
      return;
    }
    const lease = this.devices.take(a.spec!.requirements);
    if (lease.shared) this.logger.warn({ task: key.taskId }, 'too few free devices for this attempt: it shares a device with another');
    const task = runTask(a.spec!, {
      key,
      deviceEnv: this.devices.env(lease),
      workRoot: path.join(this.opts.dataDir, 'work'),
      defaultTimeoutMs: this.opts.taskTimeoutMs ?? taskTimeoutMsDefault,
      onOutput: (c) => this.send({
        case: 'log',
        value: { $typeName: 'dtf.worker.v1.LogChunk', key, stream: c.stream === 'stderr' ? OutputStream.STDERR : OutputStream.STDOUT, data: c.data, offset: BigInt(c.offset) },
      }),
      onSample: (cpuPercent, memoryBytes) => this.send({
        case: 'progress',
        value: { $typeName: 'dtf.worker.v1.Progress', key, cpuPercent, memoryBytes: BigInt(Math.round(memoryBytes)) },
      }),
    });
    this.running.set(keyOf(key), { key, task });
    this.send({ case: 'accepted', value: { $typeName: 'dtf.worker.v1.Accepted', keys: [key] } });
    void task.result.then((r) => {
      this.devices.release(lease);
      return this.finished(key, r);
    });
  }

  private async finished(key: AttemptKey, result: AttemptResult): Promise<void> {
    result.workerId = this.workerId;
    try {
      await this.outbox.add(result);
    } catch (e) {
      this.logger.error({ err: (e as Error).message }, 'could not keep result on disk; sending anyway');
    }
    const wasRunning = this.running.delete(keyOf(key));
    // The freed slot rides on the result; a draining worker grants nothing.
    this.send({ case: 'results', value: { $typeName: 'dtf.worker.v1.Results', results: [result], grant: this.draining ? 0 : 1 } });
    const next = wasRunning && this.running.size < this.slots ? this.waiting.shift() : undefined;
    if (next) this.startAttempt(next);
  }

  private heartbeat(): void {
    this.send({ case: 'heartbeat', value: { $typeName: 'dtf.worker.v1.Heartbeat', load: sampleLoad(), running: this.runningKeys(), draining: this.draining } });
  }

  private send(msg: ConnectRequest['msg']): void {
    this.out?.push(create(ConnectRequestSchema, { msg }));
  }

  /** Attempts this worker holds: running, and accepted but waiting for a slot. */
  private runningKeys(): AttemptKey[] {
    return [...[...this.running.values()].map((r) => r.key), ...this.waiting.map((a) => a.key!)];
  }

  /**
   * Takes no new work, lets running attempts finish and their results be
   * acknowledged (up to `timeoutMs`), then disconnects.
   */
  async drain(timeoutMs = 60_000): Promise<void> {
    this.draining = true;
    this.handBackWaiting();
    this.heartbeat();
    const deadline = Date.now() + timeoutMs;
    while ((this.running.size > 0 || this.outbox.size > 0) && Date.now() < deadline) await sleep(100);
    await this.stop();
  }

  /** Disconnects now; running attempts are killed. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.waiting.length = 0;
    for (const r of this.running.values()) r.task.cancel(1000);
    this.abort.abort();
    this.out?.end();
    await this.loopDone?.catch(() => {});
  }
}

function loadWorkerId(dataDir: string): string {
  const file = path.join(dataDir, 'worker-id');
  try {
    const id = fs.readFileSync(file, 'utf8').trim();
    if (id) return id;
  } catch {
    // First start: make one below.
  }
  const id = `w-${os.hostname().replace(/[^\w.-]/g, '').slice(0, 40)}-${randomBytes(4).toString('hex')}`;
  fs.writeFileSync(file, id);
  return id;
}

function sampleLoad() {
  const total = os.totalmem();
  return create(LoadSchema, { cpuPercent: (os.loadavg()[0] / os.cpus().length) * 100, memoryUsedBytes: BigInt(total - os.freemem()), loadAverage: os.loadavg()[0] });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((r) => {
    const t = setTimeout(r, ms);
    signal?.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
  });
}
