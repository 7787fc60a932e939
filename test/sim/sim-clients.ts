/**
 * Simulated clients: each issues one operation at a time (a write of a unique
 * value or a read) to some node, and records call and return times for the
 * linearizability check. A write whose answer never comes has an unknown
 * outcome (ret = Infinity); a read that never returns is dropped.
 *
 * The workload is built to catch stale reads. Readers stick to the node they
 * last saw lead and keep reading there, so when a partition cuts that leader
 * off they are the ones who would see its stale state; writers pick any node
 * and follow its leader hint, so they find the new leader on the majority
 * side and commit new values to the same few registers meanwhile. With one
 * or two keys and frequent writes, a read served without confirming
 * leadership returns a value that a completed write has already replaced.
 */
import type { SeededRng } from '../../libs/raft/rng';
import { encodeWrite, type KvWrite } from './kv-state-machine';
import type { Operation } from './linearizability';
import type { SimCluster } from './sim-cluster';
import type { SimHost } from './sim-host';

/** The shape of the client workload, drawn per seed. */
export interface Workload {
  /** Registers the clients share; fewer keys means more contention. */
  keys: number;
  /** Clients that mostly read, from the node they last saw lead. */
  readers: number;
  /** Clients that mostly write, through any node (following its leader hint). */
  writers: number;
}

/** A client gives up on a write after this many time units (its outcome is then unknown). */
const writeTimeout = 150;
/** A client gives up on a read after this many time units and looks for a leader again. */
const readTimeout = 150;
/** Chance per time unit that an idle reader, or writer, starts an operation. */
const readerRate = 0.05;
const writerRate = 0.035;
/** Share of a reader's operations that are reads, and of a writer's that are writes. */
const readerBias = 0.95;
const writerBias = 0.75;
/** Share of reads sent to a random node rather than the believed leader (follower reads). */
const followerReadShare = 0.2;

interface Client {
  reader: boolean;
  /** The node this client believes leads, as far as it has been told. */
  leader: number | undefined;
}

interface Pending {
  op: Operation;
  opId: number;
  nodeId: number;
  readIndex: number | undefined;
}

/** The clients and the history they observed. */
export class SimClients {
  private pending = new Map<number, Pending>();
  private history: Operation[] = [];
  private nextOpId = 1;
  private nextValue = 1;
  private readonly clients: Client[] = [];
  private readonly keys: string[];

  constructor(
    private readonly cluster: SimCluster,
    private readonly rng: SeededRng,
    workload: Workload,
  ) {
    this.keys = Array.from({ length: workload.keys }, (_, i) => String.fromCharCode(0x78 + i)); // x, y, z
    for (let i = 0; i < workload.readers; i++) this.clients.push({ reader: true, leader: undefined });
    for (let i = 0; i < workload.writers; i++) this.clients.push({ reader: false, leader: undefined });
  }

  step(now: number): void {
    for (const [client, p] of this.pending) {
      if (p.readIndex !== undefined) this.maybeServeRead(client, p, now);
      if (this.pending.get(client) !== p) continue;
      if (now - p.op.call > (p.op.kind === 'read' ? readTimeout : writeTimeout)) this.giveUp(client, p);
    }
    if (now >= this.cluster.scenario.duration) return; // The quiet period only finishes work.
    for (let c = 0; c < this.clients.length; c++) {
      const rate = this.clients[c].reader ? readerRate : writerRate;
      if (!this.pending.has(c) && this.rng.chance(rate)) this.start(c, now);
    }
  }

  private randomUpHost(): SimHost | undefined {
    const up = this.cluster.hosts.filter((h) => h.up);
    return up.length === 0 ? undefined : up[this.rng.nextInt(up.length)];
  }

  /** The believed leader if it is up; otherwise any node, as after a failed call. */
  private believedLeader(c: Client): SimHost | undefined {
    const h = c.leader === undefined ? undefined : this.cluster.host(c.leader);
    if (h?.up) return h;
    c.leader = undefined;
    return this.randomUpHost();
  }

  private start(client: number, now: number): void {
    const c = this.clients[client];
    const key = this.keys[this.rng.nextInt(this.keys.length)];
    const opId = this.nextOpId++;
    const write = c.reader ? !this.rng.chance(readerBias) : this.rng.chance(writerBias);
    if (write) this.startWrite(client, c, key, opId, now);
    else this.startRead(client, c, key, opId, now);
  }

  private startWrite(client: number, c: Client, key: string, opId: number, now: number): void {
    // Readers write through the node they trust; writers through any node.
    let host = c.reader ? this.believedLeader(c) : this.randomUpHost();
    if (!host) return;
    const value = this.nextValue++;
    const data = encodeWrite({ opId, key, value });
    let res = host.node.propose(data);
    if (!res.ok && res.lead !== 0 && this.cluster.host(res.lead)?.up) {
      // A refused write is forwarded once to the leader the node names.
      host = this.cluster.host(res.lead);
      res = host.node.propose(data);
    }
    if (!res.ok) {
      c.leader = undefined;
      return; // Refused: it never happened, so it is not history.
    }
    c.leader = host.id;
    const op: Operation = { client, key, kind: 'write', value, call: now, ret: Infinity };
    this.pending.set(client, { op, opId, nodeId: host.id, readIndex: undefined });
  }

  private startRead(client: number, c: Client, key: string, opId: number, now: number): void {
    let host: SimHost | undefined;
    if (this.rng.chance(followerReadShare)) {
      host = this.randomUpHost(); // Any node: a follower forwards the read to its leader.
    } else {
      host = this.believedLeader(c);
      // A node that knows it is not the leader redirects the client; one that
      // still believes it leads (say, cut off from the rest) keeps it.
      const lead = host?.node.lead ?? 0;
      if (host && host.node.role !== 'leader' && lead !== 0 && this.cluster.host(lead)?.up) host = this.cluster.host(lead);
      if (host?.node.role === 'leader') c.leader = host.id;
    }
    if (!host) return;
    const op: Operation = { client, key, kind: 'read', value: null, call: now, ret: Infinity };
    this.pending.set(client, { op, opId, nodeId: host.id, readIndex: undefined });
    host.node.readIndex(new Uint8Array(Buffer.from(String(opId))));
  }

  /** A node applied a write; the client that sent it there hears back. */
  onApplied(nodeId: number, w: KvWrite): void {
    for (const [client, p] of this.pending) {
      if (p.opId !== w.opId || p.nodeId !== nodeId) continue;
      p.op.ret = this.cluster.now;
      this.history.push(p.op);
      this.pending.delete(client);
    }
  }

  onReadIndex(nodeId: number, ctx: string, index: number): void {
    for (const p of this.pending.values()) {
      if (String(p.opId) === ctx && p.nodeId === nodeId && p.readIndex === undefined) p.readIndex = index;
    }
  }

  private maybeServeRead(client: number, p: Pending, now: number): void {
    const host = this.cluster.host(p.nodeId);
    if (!host.up || host.node.log.applied < p.readIndex!) return;
    p.op.value = host.kv.values.get(p.op.key) ?? null;
    p.op.ret = now;
    this.history.push(p.op);
    this.pending.delete(client);
  }

  private giveUp(client: number, p: Pending): void {
    this.pending.delete(client);
    this.clients[client].leader = undefined; // No answer: look for the leader afresh.
    if (p.op.kind === 'write') this.history.push(p.op); // Outcome unknown: ret stays Infinity.
  }

  /** The history, with writes still unanswered counted as unknown outcomes. */
  finish(_now: number): Operation[] {
    for (const [client, p] of this.pending) this.giveUp(client, p);
    return this.history;
  }
}
