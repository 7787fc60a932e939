/**
 * Simulated clients: each issues one operation at a time (a write of a unique
 * value or a read) to some node, and records call and return times for the
 * linearizability check. A write whose answer never comes has an unknown
 * outcome (ret = Infinity); a read that never returns is dropped.
 */
import type { SeededRng } from '../../libs/raft/rng';
import { encodeWrite, type KvWrite } from './kv-state-machine';
import type { Operation } from './linearizability';
import type { SimCluster } from './sim-cluster';

const clientCount = 3;
const keys = ['x', 'y'];
/** A client gives up on an operation after this many time units. */
const operationTimeout = 300;
/** Chance per time unit that an idle client starts an operation. */
const operationRate = 0.05;

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

  constructor(
    private readonly cluster: SimCluster,
    private readonly rng: SeededRng,
  ) {}

  step(now: number): void {
    for (const [client, p] of this.pending) {
      if (p.readIndex !== undefined) this.maybeServeRead(client, p, now);
      if (this.pending.get(client) === p && now - p.op.call > operationTimeout) this.giveUp(client, p);
    }
    if (now >= this.cluster.scenario.duration) return; // The quiet period only finishes work.
    for (let c = 0; c < clientCount; c++) {
      if (!this.pending.has(c) && this.rng.chance(operationRate)) this.start(c, now);
    }
  }

  private start(client: number, now: number): void {
    const up = this.cluster.hosts.filter((h) => h.up);
    if (up.length === 0) return;
    // Clients know no leader; a refused write is forwarded once to the hint.
    let host = up[this.rng.nextInt(up.length)];
    const key = keys[this.rng.nextInt(keys.length)];
    const opId = this.nextOpId++;
    if (this.rng.chance(0.5)) {
      const value = this.nextValue++;
      let res = host.node.propose(encodeWrite({ opId, key, value }));
      if (!res.ok && res.lead !== 0 && this.cluster.host(res.lead)?.up) {
        host = this.cluster.host(res.lead);
        res = host.node.propose(encodeWrite({ opId, key, value }));
      }
      if (!res.ok) return; // Refused: it never happened, so it is not history.
      const op: Operation = { client, key, kind: 'write', value, call: now, ret: Infinity };
      this.pending.set(client, { op, opId, nodeId: host.id, readIndex: undefined });
    } else {
      const op: Operation = { client, key, kind: 'read', value: null, call: now, ret: Infinity };
      this.pending.set(client, { op, opId, nodeId: host.id, readIndex: undefined });
      host.node.readIndex(new Uint8Array(Buffer.from(String(opId))));
    }
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
    if (!host.up || host.node.status().applied < p.readIndex!) return;
    p.op.value = host.kv.values.get(p.op.key) ?? null;
    p.op.ret = now;
    this.history.push(p.op);
    this.pending.delete(client);
  }

  private giveUp(client: number, p: Pending): void {
    this.pending.delete(client);
    if (p.op.kind === 'write') this.history.push(p.op); // Outcome unknown: ret stays Infinity.
  }

  /** The history, with writes still unanswered counted as unknown outcomes. */
  finish(_now: number): Operation[] {
    for (const [client, p] of this.pending) this.giveUp(client, p);
    return this.history;
  }
}
