import { createClient, type Client } from '@connectrpc/connect';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClusterService, type GetClusterStatusResponse } from '../../libs/gen/dtf/raft/v1/cluster_service_pb';
import { SchedulerService } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { createGrpcTransport, type GrpcTransport } from '../../libs/rpc/grpc-transport';
import { DtfProcess, eventually, freePort, sleep, startDtf } from './dtf-process';
import { TcpProxy } from './tcp-proxy';

export interface RaftClusterOptions {
  members: number;
  workers: number;
  slots?: number;
  /** Raft tick; elections take 10-20 ticks. */
  tickMs?: number;
  snapshotEntries?: number;
  heartbeatMs?: number;
  leaseMs?: number;
  /** Seeds the proxies' random drops and the test's choices. */
  seed: number;
}

/** A small seeded generator (mulberry32), so a failing run can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A real coordinator cluster on loopback for chaos tests: each member, each
 * worker and the collector is its own `dtf` process. Every peer link
 * (member i → member j) and every worker link (worker w → member j) goes
 * through its own TcpProxy, so partitions and delays are per direction.
 */
export class RaftCluster {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtf-chaos-'));
  readonly random: () => number;
  /** Real gRPC port of each member. */
  readonly ports = new Map<number, number>();
  /** `i->j` for peers, `w<k>->j` for workers. */
  readonly proxies = new Map<string, TcpProxy>();
  readonly members = new Map<number, DtfProcess>();
  /** Every process ever started, killed ones included, for the checks on their logs. */
  readonly processes: DtfProcess[] = [];
  workers: DtfProcess[] = [];
  collector: DtfProcess | undefined;
  private readonly transports = new Map<string, GrpcTransport>();

  constructor(readonly opts: RaftClusterOptions) {
    this.random = seededRandom(opts.seed);
  }

  get ids(): number[] {
    return [...this.ports.keys()];
  }

  get dbPath(): string {
    return path.join(this.dir, 'results.duckdb');
  }

  get historyPath(): string {
    return path.join(this.dir, 'history.jsonl');
  }

  address(id: number): string {
    return `127.0.0.1:${this.ports.get(id)}`;
  }

  /** What to print when a check fails: enough to reproduce the run. */
  reproduce(): string {
    const ports = [...this.ports].map(([id, p]) => `${id}=${p}`).join(',');
    return `seed ${this.opts.seed} (replay: CHAOS_SEED=${this.opts.seed}), member ports ${ports}, data and history in ${this.dir} (history ${this.historyPath})`;
  }

  async start(): Promise<this> {
    for (let id = 1; id <= this.opts.members; id++) this.ports.set(id, await freePort());
    for (const i of this.ids) for (const j of this.ids) if (i !== j) await this.proxy(`${i}->${j}`, j);
    for (let w = 1; w <= this.opts.workers; w++) for (const j of this.ids) await this.proxy(`w${w}->${j}`, j);
    await Promise.all(this.ids.map((id) => this.startMember(id)));
    await this.leader();
    await this.restartCollector().waitFor(/listening on/);
    for (let w = 1; w <= this.opts.workers; w++) this.workers.push(this.startWorker(w));
    return this;
  }

  private async proxy(key: string, to: number): Promise<void> {
    this.proxies.set(key, await new TcpProxy(key, { host: '127.0.0.1', port: this.ports.get(to)! }, this.random).listen());
  }

  private spawn(label: string, args: string[]): DtfProcess {
    const p = startDtf(label, args);
    this.processes.push(p);
    return p;
  }

  /** The --peers of member `id`: itself at its real port, every other member through its proxy. */
  peersOf(id: number, ids = this.ids): string {
    return ids.map((j) => `${j}=${j === id ? this.address(j) : this.proxies.get(`${id}->${j}`)!.address}`).join(',');
  }

  async startMember(id: number, extra: string[] = []): Promise<DtfProcess> {
    const p = this.spawn(`member-${id}`, [
      'coordinator', '--id', String(id), '--peers', this.peersOf(id), '--data-dir', path.join(this.dir, `member-${id}`),
      '--tick-ms', String(this.opts.tickMs ?? 20), '--snapshot-entries', String(this.opts.snapshotEntries ?? 10_000),
      '--heartbeat-ms', String(this.opts.heartbeatMs ?? 200), '--lease-ms', String(this.opts.leaseMs ?? 2000), ...extra,
    ]);
    this.members.set(id, p);
    await p.waitFor(/coordinator listening/);
    return p;
  }

  startWorker(w: number): DtfProcess {
    const links = this.ids.map((j) => this.proxies.get(`w${w}->${j}`)!.address).join(',');
    return this.spawn(`worker-${w}`, ['worker', '--coordinator', links, '--data-dir', path.join(this.dir, `worker-${w}`), '--slots', String(this.opts.slots ?? 2), '--name', `w${w}`]);
  }

  /** Adds a member's proxies (for `dtf cluster add` tests). */
  async addPorts(id: number): Promise<void> {
    this.ports.set(id, await freePort());
    for (const i of this.ids) {
      if (i === id) continue;
      await this.proxy(`${i}->${id}`, id);
      await this.proxy(`${id}->${i}`, i);
    }
    for (let w = 1; w <= this.opts.workers; w++) await this.proxy(`w${w}->${id}`, id);
  }

  transport(address: string): GrpcTransport {
    let t = this.transports.get(address);
    if (!t) this.transports.set(address, (t = createGrpcTransport(address)));
    return t;
  }

  cluster(id: number): Client<typeof ClusterService> {
    return createClient(ClusterService, this.transport(this.address(id)));
  }

  scheduler(id: number): Client<typeof SchedulerService> {
    return createClient(SchedulerService, this.transport(this.address(id)));
  }

  alive(id: number): boolean {
    const p = this.members.get(id);
    return p !== undefined && p.child.exitCode === null && p.child.signalCode === null;
  }

  async status(id: number): Promise<GetClusterStatusResponse | undefined> {
    if (!this.alive(id)) return undefined;
    return this.cluster(id).getClusterStatus({}, { timeoutMs: 1000 }).catch(() => undefined);
  }

  /** Waits for a live member that says it leads and that the other live members agree on. */
  async leader(timeoutMs = 20_000, among = this.ids): Promise<number> {
    return eventually('one leader', async () => {
      const st = (await Promise.all(among.map((id) => this.status(id)))).filter((s): s is GetClusterStatusResponse => s !== undefined);
      const leaders = st.filter((s) => s.role === 'leader');
      if (leaders.length !== 1) return undefined;
      const id = Number(leaders[0].id);
      return st.filter((s) => Number(s.leaderId) === id).length * 2 > among.length ? id : undefined;
    }, timeoutMs, 25);
  }

  /** Cuts (or heals) every link to and from member `id`, workers' included. */
  isolate(id: number, on: boolean): void {
    for (const [key, p] of this.proxies) {
      const [from, to] = key.split('->');
      if (from === String(id) || to === String(id)) p.blackhole(on);
    }
  }

  /** Forgets a member that was removed from the cluster (after stopping it). */
  forget(id: number): void {
    this.ports.delete(id);
    this.members.delete(id);
  }

  /** Restarts the collector on the same database (after a kill -9). */
  restartCollector(): DtfProcess {
    this.collector = this.spawn('collector', ['results', '--coordinator', this.ids.map((id) => this.address(id)).join(','), '--db', this.dbPath, '--listen', '127.0.0.1:0']);
    return this.collector;
  }

  async kill9(id: number): Promise<void> {
    const p = this.members.get(id);
    if (!p) return;
    p.kill9();
    await p.exited;
  }

  /** Waits until every live member reports the same applied index and state hash. */
  async settled(timeoutMs = 30_000): Promise<GetClusterStatusResponse[]> {
    return eventually('replicas to agree', async () => {
      const st = await Promise.all(this.ids.filter((id) => this.alive(id)).map((id) => this.status(id)));
      if (st.some((s) => !s)) return undefined;
      const all = st as GetClusterStatusResponse[];
      const same = new Set(all.map((s) => `${s.appliedIndex}/${s.stateHash}`)).size === 1;
      return same ? all : undefined;
    }, timeoutMs, 200);
  }

  /**
   * Every (term, leader) any member ever logged, killed instances included.
   * A member logs `raft role` with its role and term whenever it changes.
   */
  leadersByTerm(): Map<number, Set<number>> {
    const out = new Map<number, Set<number>>();
    for (const p of this.processes) {
      if (!p.label.startsWith('member-')) continue;
      for (const line of p.output.split('\n')) {
        if (!line.includes('"raft role"') || !line.includes('"role":"leader"')) continue;
        const term = /"term":(\d+)/.exec(line);
        const who = /"leader":(\d+)/.exec(line);
        if (!term || !who) continue;
        let set = out.get(Number(term[1]));
        if (!set) out.set(Number(term[1]), (set = new Set()));
        set.add(Number(who[1]));
      }
    }
    return out;
  }

  logs(): string {
    return this.processes.map((p) => `--- ${p.label}\n${p.output.slice(-3000)}`).join('\n');
  }

  async stop(keep: boolean): Promise<void> {
    for (const t of this.transports.values()) t.close();
    await Promise.all(this.processes.map((p) => p.stop()));
    for (const p of this.proxies.values()) await p.close();
    if (!keep) fs.rmSync(this.dir, { recursive: true, force: true });
    // A kept run keeps every process's output beside its data, for the post-mortem.
    else this.processes.forEach((p, i) => fs.writeFileSync(path.join(this.dir, `${String(i).padStart(2, '0')}-${p.label}.log`), p.output));
  }
}

/** One submission attempt, as the history file records it. */
export interface HistoryRecord {
  at: number;
  key: string;
  member: number;
  ok: boolean;
  jobId?: string;
  error?: string;
}

/**
 * A client that submits jobs steadily, each under its own idempotency key,
 * retrying a key (on the next member) until a member acknowledges it, and
 * writing every attempt to the history file.
 */
export class Submitter {
  readonly acked = new Map<string, string>();
  attempts = 0;
  private stopped = false;
  private done: Promise<void> | undefined;
  private next = 0;
  private member = 0;
  lastAckAt = 0;

  constructor(
    private readonly c: RaftCluster,
    private readonly tasksPerJob = 2,
  ) {}

  start(): void {
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  /** Resolves at the first acknowledgement after now; returns how long it took. */
  async nextAck(timeoutMs = 30_000): Promise<number> {
    const t0 = Date.now();
    await eventually('an acknowledged submission', async () => this.lastAckAt > t0, timeoutMs, 5);
    return this.lastAckAt - t0;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      await this.submit(`chaos-${this.c.opts.seed}-${++this.next}`);
      await sleep(30);
    }
  }

  /**
   * Submits one job under `key`, retrying on the next member until one
   * acknowledges it (or the submitter stops); records every attempt.
   */
  async submit(key: string, tasks = this.tasksPerJob, shell = 'sleep 0.05'): Promise<void> {
    {
      for (;;) {
        const ids = this.c.ids.filter((id) => this.c.alive(id));
        const member = ids[this.member++ % Math.max(1, ids.length)] ?? 1;
        this.attempts++;
        const rec: HistoryRecord = { at: Date.now(), key, member, ok: false };
        try {
          const res = await this.c.scheduler(member).submitJob(
            { name: key, idempotencyKey: key, tasks: Array.from({ length: tasks }, () => ({ shell })) },
            { timeoutMs: 2000 },
          );
          rec.ok = true;
          rec.jobId = res.job!.id;
          const earlier = this.acked.get(key);
          if (earlier && earlier !== rec.jobId) throw new Error(`key ${key} acknowledged as ${earlier} and as ${rec.jobId}`);
          this.acked.set(key, rec.jobId);
          this.lastAckAt = Date.now();
          fs.appendFileSync(this.c.historyPath, JSON.stringify(rec) + '\n');
          break;
        } catch (e) {
          rec.error = (e as Error).message.slice(0, 200);
          fs.appendFileSync(this.c.historyPath, JSON.stringify(rec) + '\n');
          if ((e as Error).message.includes('acknowledged as')) throw e;
          if (this.stopped) return;
          await sleep(20);
        }
      }
    }
  }
}
