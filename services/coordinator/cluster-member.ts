/**
 * A coordinator's membership of a Raft cluster: its durable Raft storage,
 * the peers' addresses, the RaftHost that is its ReplicatedLog, and what
 * changes when leadership moves (the leader's soft state is rebuilt; workers
 * on a member that stops leading are redirected to the new leader).
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import * as fs from 'node:fs';
import { MemberSchema, SnapshotEnvelopeSchema } from '../../libs/gen/dtf/raft/v1/cluster_service_pb';
import { RaftHost, type HostedStateMachine } from '../../libs/log/raft-host';
import { bootstrap } from '../../libs/raft/bootstrap';
import { FileStorage } from '../../libs/raft/file-storage';
import { ConfChangeType, type ConfChange, type Message, type Role } from '../../libs/raft/types';
import { CoordinatorState } from '../../libs/state/coordinator-state';
import { decodeStateSnapshot, encodeStateSnapshot } from '../../libs/state/state-snapshot';
import type { Coordinator } from './coordinator';
import { GrpcPeerTransport, type RaftReceiver } from './raft-transport';

/** How a coordinator takes part in a cluster. */
export interface ClusterOptions {
  /** This member's id, a positive integer unique in the cluster. */
  id: number;
  /**
   * Member id → host:port of its gRPC server, this one included: founding
   * members list all founders; a joining member lists the current members,
   * so it can answer the leader before it has applied the membership.
   */
  peers: Map<number, string>;
  /** Start empty and wait to be added (`dtf cluster add`) instead of founding the cluster with `peers`. */
  join?: boolean;
  /** Raft timer tick; election timeout is `electionTicks` ticks (randomised up to twice that). */
  tickMs?: number;
  electionTicks?: number;
  /** Snapshot the state after this many applied entries, keeping this many below it. */
  snapshotEntries?: number;
  compactionKeepEntries?: number;
}

export const clusterDefaults = { tickMs: 100, electionTicks: 10, snapshotEntries: 10_000, compactionKeepEntries: 1000 };

/** Waiting for a leadership transfer on shutdown gives up after this many election timeouts. */
export const handOverElectionTimeouts = 2;

export class ClusterMember implements RaftReceiver {
  readonly id: number;
  readonly host: RaftHost;
  readonly storage: FileStorage;
  /** Member id → address; updated by membership changes and snapshots. */
  readonly addresses: Map<number, string>;
  private readonly transport: GrpcPeerTransport;
  private readonly electionTimeoutMs: number;
  leading = false;
  role: Role = 'follower';
  term = 0;

  constructor(
    private readonly c: Coordinator,
    opts: ClusterOptions,
    dir: string,
  ) {
    this.id = opts.id;
    const o = {
      tickMs: opts.tickMs ?? clusterDefaults.tickMs,
      electionTicks: opts.electionTicks ?? clusterDefaults.electionTicks,
      snapshotEntries: opts.snapshotEntries ?? clusterDefaults.snapshotEntries,
      compactionKeepEntries: opts.compactionKeepEntries ?? clusterDefaults.compactionKeepEntries,
    };
    this.electionTimeoutMs = o.tickMs * o.electionTicks;
    if (!opts.join && !opts.peers.has(opts.id)) {
      throw new Error(`--peers does not list this member's own id ${opts.id}; list every founding member as id=host:port`);
    }
    this.addresses = new Map(opts.peers);
    fs.mkdirSync(dir, { recursive: true });
    this.storage = FileStorage.open(dir);
    const fresh = this.storage.lastIndex() === 0 && this.storage.snapshot().metadata.index === 0;
    if (fresh && !opts.join) bootstrap(this.storage, [...opts.peers.keys()].sort((a, b) => a - b));
    this.transport = new GrpcPeerTransport(this.id, this.addresses);
    this.host = new RaftHost({
      id: this.id,
      storage: this.storage,
      transport: this.transport,
      stateMachine: this.stateMachine(),
      tickMs: o.tickMs,
      electionTicks: o.electionTicks,
      heartbeatTicks: 1,
      snapshotEntries: o.snapshotEntries,
      compactionKeepEntries: o.compactionKeepEntries,
      seed: this.id * 7919 + Date.now(),
      onConfChange: (cc) => this.confChanged(cc),
      onRoleChange: (role, lead, term) => this.roleChanged(role, lead, term),
      onFatal: (e) => {
        c.logger.fatal({ err: e.message }, 'raft storage failed; exiting so the cluster elects another leader');
        process.exitCode = 1;
        void c.stop().finally(() => process.exit(1));
      },
    });
  }

  /** The address this member serves on, from its own entry in --peers. */
  get ownAddress(): string | undefined {
    return this.addresses.get(this.id);
  }

  /** The leader's id and address, when one is known. */
  leader(): { id: number; address: string | undefined } {
    const id = this.host.leader;
    return { id, address: id ? this.addresses.get(id) : undefined };
  }

  start(): void {
    this.host.start();
  }

  receive(m: Message): void {
    this.host.step(m);
  }

  readBarrier(): Promise<void> {
    return this.host.readBarrier(this.electionTimeoutMs * 2);
  }

  /** Leader only: hands leadership to the most up-to-date other voter and waits for it. */
  async handOver(): Promise<void> {
    if (!this.leading) return;
    const others = this.host.status().progress.filter((p) => p.id !== this.id);
    if (others.length === 0) return;
    const target = others.reduce((a, b) => (b.match > a.match ? b : a));
    this.c.logger.info({ target: target.id }, 'handing leadership over before stopping');
    this.host.transferLeadership(target.id);
    const deadline = Date.now() + this.electionTimeoutMs * handOverElectionTimeouts;
    while (this.leading && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }

  private stateMachine(): HostedStateMachine {
    const c = this.c;
    return {
      apply: (index, cmd) => c.state.apply(index, cmd),
      snapshot: () =>
        toBinary(SnapshotEnvelopeSchema, create(SnapshotEnvelopeSchema, {
          members: [...this.addresses].sort(([a], [b]) => a - b).map(([id, address]) => create(MemberSchema, { id: BigInt(id), address })),
          state: encodeStateSnapshot(c.state),
        })),
      restore: (data, index) => {
        const env = fromBinary(SnapshotEnvelopeSchema, data);
        // Learn members added since this one started; keep the addresses it
        // was given for the ones it knows (they may differ per member, e.g.
        // through a proxy).
        for (const m of env.members) if (!this.addresses.has(Number(m.id))) this.addresses.set(Number(m.id), m.address);
        c.state = CoordinatorState.fromSnapshot(decodeStateSnapshot(env.state), c.state.options);
        // The hub and dispatcher hold the old state: rebuild them (idle on a follower).
        if (c.hub) c.resetSoftState();
        c.changes.notify();
        c.logger.info({ index: String(index), bytes: data.length }, 'state restored from snapshot');
      },
    };
  }

  private confChanged(cc: ConfChange): void {
    if (cc.type === ConfChangeType.ADD_VOTER && cc.context && cc.context.length > 0) {
      this.addresses.set(cc.nodeId, new TextDecoder().decode(cc.context));
    } else if (cc.type === ConfChangeType.REMOVE_VOTER && cc.nodeId !== this.id) {
      this.addresses.delete(cc.nodeId);
      this.transport.forget(cc.nodeId);
    }
    this.c.logger.info({ change: ConfChangeType[cc.type], member: cc.nodeId, members: Object.fromEntries(this.addresses) }, 'membership changed');
  }

  private roleChanged(role: Role, lead: number, term: number): void {
    const was = this.leading;
    this.role = role;
    this.term = term;
    this.leading = role === 'leader';
    this.c.logger.info({ role, leader: lead, term }, 'raft role');
    if (this.leading && !was) {
      this.c.resetSoftState();
    } else if (!this.leading && was) {
      this.c.dispatcher.stop();
      const address = lead ? this.addresses.get(lead) : undefined;
      for (const s of this.c.hub.sessions.values()) {
        if (address) s.send({ case: 'redirect', value: { $typeName: 'dtf.worker.v1.Redirect', address } });
        s.close();
      }
      this.c.hub.sessions.clear();
    }
  }
}
