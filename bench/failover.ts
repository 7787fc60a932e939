/**
 * Coordinator failover and the cost of replication, on real processes:
 * three `dtf coordinator` members on loopback, a client submitting jobs.
 *
 * - failover: kill -9 of the leader → the first submission a member
 *   acknowledges, over many trials (the killed member is restarted and
 *   catches up between trials);
 * - throughput: acknowledged submissions/s with K outstanding, against the
 *   three-member cluster and against a lone coordinator (local FileLog).
 */
import { createClient, type Client } from '@connectrpc/connect';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ClusterService } from '../libs/gen/dtf/raft/v1/cluster_service_pb';
import { SchedulerService } from '../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { createGrpcTransport, type GrpcTransport } from '../libs/rpc/grpc-transport';
import { freePort } from '../libs/net/free-port';

/** Raft tick of the benchmarked members; the election timeout is 10-20 ticks. */
export const failoverTickMs = 50;
export const electionTimeoutMinMs = failoverTickMs * 10;
/** Submissions kept outstanding in the throughput runs. */
export const outstandingSubmissionsMax = 64;
/** A client attempt against one member gives up after this long and tries the next. */
export const attemptTimeoutMs = 500;

const bin = path.resolve(__dirname, '../bin/dtf.js');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A `dtf coordinator` child process, ready once it printed its listening line. */
class Member {
  child: ChildProcess;
  output = '';
  readonly ready: Promise<void>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [bin, 'coordinator', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DTF_LOG_LEVEL: 'warn' } });
    this.ready = new Promise((resolve, reject) => {
      const onData = (d: Buffer) => {
        this.output = (this.output + d.toString()).slice(-4000);
        if (/coordinator listening/.test(this.output)) resolve();
      };
      this.child.stdout!.on('data', onData);
      this.child.stderr!.on('data', onData);
      this.child.on('exit', (code) => reject(new Error(`coordinator exited (${code}) before listening:\n${this.output}`)));
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill(signal);
    await exited;
  }
}

/** Three members on loopback with their clients. */
class BenchCluster {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtf-bench-failover-'));
  readonly ports = new Map<number, number>();
  readonly members = new Map<number, Member>();
  private readonly transports = new Map<number, GrpcTransport>();

  async start(n: number): Promise<void> {
    for (let id = 1; id <= n; id++) this.ports.set(id, await freePort());
    await Promise.all([...this.ports.keys()].map((id) => this.startMember(id)));
  }

  async startMember(id: number): Promise<void> {
    const peers = [...this.ports].map(([i, p]) => `${i}=127.0.0.1:${p}`).join(',');
    const m = new Member(['--id', String(id), '--peers', peers, '--data-dir', path.join(this.dir, `m${id}`), '--tick-ms', String(failoverTickMs)]);
    this.members.set(id, m);
    await m.ready;
  }

  scheduler(id: number): Client<typeof SchedulerService> {
    return createClient(SchedulerService, this.transport(id));
  }

  private transport(id: number): GrpcTransport {
    let t = this.transports.get(id);
    if (!t) this.transports.set(id, (t = createGrpcTransport(`127.0.0.1:${this.ports.get(id)}`)));
    return t;
  }

  /** The member all live members agree leads. */
  async leader(timeoutMs = 20_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const st = await Promise.all([...this.members.keys()].map((id) => createClient(ClusterService, this.transport(id)).getClusterStatus({}, { timeoutMs: 500 }).catch(() => undefined)));
      const leaders = new Set(st.filter((s) => s && s.leaderId > 0n).map((s) => Number(s!.leaderId)));
      const self = st.find((s) => s && s.role === 'leader');
      if (self && leaders.size === 1 && st.every((s) => s !== undefined)) return Number(self.id);
      if (Date.now() > deadline) throw new Error('no leader agreed on by every member');
      await sleep(20);
    }
  }

  /** Waits until every member applied the same index. */
  async caughtUp(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const st = await Promise.all([...this.members.keys()].map((id) => createClient(ClusterService, this.transport(id)).getClusterStatus({}, { timeoutMs: 500 }).catch(() => undefined)));
      if (st.every((s) => s !== undefined) && new Set(st.map((s) => s!.appliedIndex)).size === 1) return;
      if (Date.now() > deadline) throw new Error('members did not catch up');
      await sleep(50);
    }
  }

  async stop(): Promise<void> {
    for (const t of this.transports.values()) t.close();
    await Promise.all([...this.members.values()].map((m) => m.kill()));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

let keys = 0;

/** One submission, tried on every member in turn until one acknowledges it. */
async function submitAnywhere(c: BenchCluster, ids: number[]): Promise<void> {
  const key = `failover-${process.pid}-${++keys}`;
  for (let i = 0; ; i++) {
    const id = ids[i % ids.length];
    try {
      await c.scheduler(id).submitJob({ name: key, idempotencyKey: key, tasks: [{ shell: 'true' }] }, { timeoutMs: attemptTimeoutMs });
      return;
    } catch {
      // Dead, not leading, or no leader yet: the next member.
    }
  }
}

/** Milliseconds from kill -9 of the leader to the first acknowledged submission, `trials` times. */
export async function measureFailover(trials: number, onTrial: (i: number, ms: number) => void): Promise<number[]> {
  const c = new BenchCluster();
  try {
    await c.start(3);
    const out: number[] = [];
    for (let i = 0; i < trials; i++) {
      const leader = await c.leader();
      await submitAnywhere(c, [leader]);
      const t0 = performance.now();
      await c.members.get(leader)!.kill();
      await submitAnywhere(c, [...c.members.keys()].filter((id) => id !== leader));
      out.push(performance.now() - t0);
      onTrial(i, out[i]);
      await c.startMember(leader);
      await c.caughtUp();
    }
    return out;
  } finally {
    await c.stop();
  }
}

/** Acknowledged submissions per second through the leader of an n-member cluster (n = 1: a lone coordinator). */
export async function measureSubmitRate(members: number, durationMs: number): Promise<number> {
  const c = new BenchCluster();
  try {
    if (members === 1) {
      c.ports.set(1, await freePort());
      const m = new Member(['--listen', `127.0.0.1:${c.ports.get(1)}`, '--data-dir', path.join(c.dir, 'lone')]);
      c.members.set(1, m);
      await m.ready;
    } else {
      await c.start(members);
    }
    const leader = members === 1 ? 1 : await c.leader();
    const s = c.scheduler(leader);
    let done = 0;
    const end = performance.now() + durationMs;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: outstandingSubmissionsMax }, async (_, lane) => {
      for (let i = 0; performance.now() < end; i++) {
        await s.submitJob({ name: `rate-${lane}-${i}`, tasks: [{ shell: 'true' }] });
        done++;
      }
    }));
    return (done / (performance.now() - t0)) * 1000;
  } finally {
    await c.stop();
  }
}
