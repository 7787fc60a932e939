/**
 * N simulated nodes over a SimNetwork, each ticking on its own drifting
 * clock, plus clients issuing reads and writes and a fault schedule, all
 * driven by one seed. Every safety property is checked as it runs.
 */
import { bootstrap } from '../../libs/raft/bootstrap';
import { decodeConfChange } from '../../libs/raft/codec';
import { SeededRng } from '../../libs/raft/rng';
import { ConfChangeType, EntryType, type Entry } from '../../libs/raft/types';
import { InvariantChecker } from './invariants';
import { type KvWrite } from './kv-state-machine';
import type { Operation } from './linearizability';
import { SimDisk } from './sim-disk';
import { SimHost } from './sim-host';
import { SimNetwork, type NetworkFaults } from './sim-network';
import { SimClients, type Workload } from './sim-clients';

/** The shape of one simulated run, all drawn from the seed. */
export interface Scenario {
  /** Founding members; membership changes may add up to `joinersMax` more. */
  nodeCount: number;
  /** Simulated time units per tick, per node id (joiners included): unequal rates are clock drift. */
  tickPeriods: number[];
  faults: NetworkFaults;
  /** Chance per time unit of each fault event. */
  crashRate: number;
  crashBeforeSyncRate: number;
  partitionRate: number;
  /**
   * Share of partitions that cut the current leader off from every other
   * node, rather than a random split; its readers keep reading from it.
   */
  isolateLeaderShare: number;
  /**
   * Chance that an isolated leader's clock also runs this many times slower
   * until the partition heals (a stalled timer thread, or extreme drift), so
   * it goes on believing it leads well after the others elected a new leader.
   */
  isolatedClockStall: number;
  transferRate: number;
  /**
   * Chance per time unit that an operator asks the leader for a membership
   * change: add a new, empty node, remove a follower, or remove the leader.
   * Zero in most seeds.
   */
  membershipRate: number;
  /** Nodes that may join beyond the founders (ids nodeCount+1 ...). */
  joinersMax: number;
  workload: Workload;
  duration: number;
}

/** How many time units apart log matching is checked (it compares whole logs). */
const logMatchingPeriod = 200;
/**
 * Ticks of calm (no faults, every node up) after the scenario, within which
 * a leader must emerge and every node catch up: a few election timeouts.
 */
const quietTicks = 60;
/**
 * How long the quiet period may stretch for a cluster that has not yet
 * converged: one that grew to six or seven voters, with message delays near
 * a third of the election timeout, can take several rounds of split votes.
 */
const quietTicksMax = 180;

/** A simulated cluster; `run()` plays the scenario and returns the client history. */
export class SimCluster {
  readonly rng: SeededRng;
  readonly network: SimNetwork;
  readonly hosts: SimHost[] = [];
  readonly checker = new InvariantChecker();
  readonly clients: SimClients;
  now = 0;
  private nextTick: number[];
  private restartAt = new Map<number, number>();
  private healAt = -1;
  /** Nodes removed from the cluster and shut down for good. */
  readonly decommissioned = new Set<number>();
  /** Removed nodes, and when the operator shuts them down. */
  private decommissionAt = new Map<number, number>();
  /** Tick-period multipliers of nodes whose clock is stalled until the heal. */
  private clockStall = new Map<number, number>();

  constructor(
    readonly seed: number,
    readonly scenario: Scenario,
  ) {
    this.rng = new SeededRng(seed);
    this.network = new SimNetwork(new SeededRng(seed ^ 0x5bd1e995), scenario.faults);
    const voters = Array.from({ length: scenario.nodeCount }, (_, i) => i + 1);
    for (const id of voters) {
      const disk = new SimDisk();
      bootstrap(disk, voters);
      this.hosts.push(new SimHost(id, disk, seed * 7919 + id, this.hostEvents()));
    }
    this.nextTick = scenario.tickPeriods.slice(0, scenario.nodeCount);
    this.clients = new SimClients(this, new SeededRng(seed ^ 0x27d4eb2f), scenario.workload);
  }

  private hostEvents() {
    return {
      send: (m: import('../../libs/raft/types').Message) => this.network.send(this.now, m),
      applied: (nodeId: number, w: KvWrite | undefined, _index: number, e: Entry) => {
        this.checker.onApply(nodeId, this.host(nodeId).node.term, e);
        if (w) this.clients.onApplied(nodeId, w);
        if (e.type === EntryType.CONF_CHANGE) this.onConfChangeCommitted(e);
      },
      readReady: (nodeId: number, ctx: string, index: number) => this.clients.onReadIndex(nodeId, ctx, index),
      crashBeforeSync: () => this.rng.chance(this.scenario.crashBeforeSyncRate),
    };
  }

  host(id: number): SimHost {
    return this.hosts[id - 1];
  }

  /** Plays the scenario, then a quiet period in which the cluster must converge. */
  run(): Operation[] {
    for (; this.now < this.scenario.duration; this.now++) {
      this.injectFaults();
      this.stepTime();
    }
    this.quiesce();
    const period = Math.max(...this.scenario.tickPeriods);
    const quietMin = this.now + quietTicks * period;
    const quietMax = this.now + quietTicksMax * period;
    let unconverged: string | undefined;
    for (; this.now < quietMax; this.now++) {
      this.stepTime();
      if (this.now >= quietMin && this.now % period === 0 && (unconverged = this.unconverged()) === undefined) break;
    }
    if (unconverged !== undefined) throw new Error(unconverged);
    return this.clients.finish(this.now);
  }

  private stepTime(): void {
    for (const m of this.network.due(this.now)) {
      const h = this.host(m.to);
      if (h?.up) h.node.step(m);
    }
    for (const h of this.hosts) {
      if (!h.up || this.now < this.nextTick[h.id - 1]) continue;
      this.nextTick[h.id - 1] += this.scenario.tickPeriods[h.id - 1] * (this.clockStall.get(h.id) ?? 1);
      h.node.tick();
    }
    this.clients.step(this.now);
    for (const h of this.hosts) {
      if (!h.up) continue;
      if (!h.drain()) this.restartAt.set(h.id, this.now + 1 + this.rng.nextInt(200));
      else if (h.node.role === 'leader') this.checker.onLeader(h.node);
    }
    if (this.now % logMatchingPeriod === 0) this.checker.checkLogMatching(this.hosts.filter((h) => h.up).map((h) => h.node));
  }

  private injectFaults(): void {
    const s = this.scenario;
    for (const [id, at] of this.restartAt) {
      if (at > this.now) continue;
      this.restartAt.delete(id);
      if (!this.decommissioned.has(id)) this.host(id).restart();
    }
    for (const [id, at] of this.decommissionAt) {
      if (at > this.now) continue;
      this.decommissionAt.delete(id);
      this.decommission(id);
    }
    if (this.rng.chance(s.crashRate)) {
      const h = this.hosts[this.rng.nextInt(this.hosts.length)];
      const live = this.hosts.filter((x) => !this.decommissioned.has(x.id));
      const downCount = live.filter((x) => !x.up).length;
      // Keep a majority alive most of the time, or nothing would happen.
      if (h.up && downCount < Math.floor(live.length / 2)) {
        h.crash();
        this.restartAt.set(h.id, this.now + 1 + this.rng.nextInt(300));
      }
    }
    if (this.rng.chance(s.transferRate)) {
      // Leadership transfer to a random voter, as an operator would ask for.
      const leader = this.hosts.find((h) => h.up && h.node.role === 'leader');
      if (leader) leader.node.transferLeadership(1 + this.rng.nextInt(this.hosts.length));
    }
    if (s.membershipRate > 0 && this.rng.chance(s.membershipRate)) this.changeMembership();
    if (this.healAt >= 0 && this.now >= this.healAt) {
      this.heal();
    } else if (this.healAt < 0 && this.rng.chance(s.partitionRate)) {
      const leader = this.hosts.find((h) => h.up && h.node.role === 'leader');
      if (leader && this.rng.chance(s.isolateLeaderShare)) {
        this.isolate(leader.id);
        // Longer than an election timeout, so the others elect a new leader.
        this.healAt = this.now + 250 + this.rng.nextInt(500);
      } else {
        this.partition();
        this.healAt = this.now + 50 + this.rng.nextInt(400);
      }
    }
  }

  /**
   * An operator's single-server change, asked of the current leader (which
   * refuses while another change is in flight): add a brand-new empty node,
   * remove a follower, or remove the leader itself. Never below two voters.
   */
  private changeMembership(): void {
    const leader = this.hosts.find((h) => h.up && h.node.role === 'leader');
    if (!leader) return;
    const voters = [...leader.node.voters];
    const kind = this.rng.nextInt(3);
    if (kind === 0) {
      if (this.hosts.length >= this.scenario.nodeCount + this.scenario.joinersMax) return;
      // The new node starts empty (no bootstrap) and learns everything from
      // the leader's log or snapshot once the change is applied.
      const id = this.hosts.length + 1;
      this.hosts.push(new SimHost(id, new SimDisk(), this.seed * 7919 + id, this.hostEvents()));
      this.nextTick.push(this.now + this.scenario.tickPeriods[id - 1]);
      const res = leader.node.proposeConfChange({ type: ConfChangeType.ADD_VOTER, nodeId: id });
      if (!res.ok) {
        // Refused: the operator never starts that node.
        this.hosts.pop();
        this.nextTick.pop();
      }
      return;
    }
    if (voters.length <= 2) return;
    const followers = voters.filter((id) => id !== leader.id);
    const target = kind === 1 ? followers[this.rng.nextInt(followers.length)] : leader.id;
    leader.node.proposeConfChange({ type: ConfChangeType.REMOVE_VOTER, nodeId: target });
  }

  /** A committed removal: the operator shuts the removed node down a little later. */
  private onConfChangeCommitted(e: Entry): void {
    const cc = decodeConfChange(e.data);
    if (cc.type !== ConfChangeType.REMOVE_VOTER) return;
    if (this.decommissioned.has(cc.nodeId) || this.decommissionAt.has(cc.nodeId)) return;
    this.decommissionAt.set(cc.nodeId, this.now + this.rng.nextInt(200));
  }

  private decommission(id: number): void {
    const h = this.host(id);
    if (h.up) h.crash();
    this.decommissioned.add(id);
    this.restartAt.delete(id);
  }

  private heal(): void {
    this.network.heal();
    this.healAt = -1;
    this.clockStall.clear();
  }

  /** Cuts `id` off from every other node, both ways; its clock may stall too. */
  private isolate(id: number): void {
    for (const h of this.hosts) {
      if (h.id === id) continue;
      this.network.cut(id, h.id);
      this.network.cut(h.id, id);
    }
    if (this.rng.chance(this.scenario.isolatedClockStall)) this.clockStall.set(id, 2 + this.rng.nextInt(4));
  }

  /** A random split; one time in three, only one direction is cut. */
  private partition(): void {
    const ids = this.hosts.map((h) => h.id);
    const side = new Set(ids.filter(() => this.rng.chance(0.5)));
    const oneWay = this.rng.chance(1 / 3);
    for (const a of ids) {
      for (const b of ids) {
        if (side.has(a) && !side.has(b)) {
          this.network.cut(a, b);
          if (!oneWay) this.network.cut(b, a);
        }
      }
    }
  }

  private quiesce(): void {
    this.heal();
    this.network.faults = { ...this.network.faults, dropRate: 0, duplicateRate: 0 };
    this.scenario.crashBeforeSyncRate = 0;
    for (const id of this.decommissionAt.keys()) this.decommission(id);
    this.decommissionAt.clear();
    for (const id of this.restartAt.keys()) if (!this.decommissioned.has(id)) this.host(id).restart();
    this.restartAt.clear();
  }

  /**
   * Liveness after healing: one leader, and every member (removed nodes
   * excluded, joined ones included) is up and applied the same log and the
   * same membership. A node whose joining change never committed is no
   * member and is left out.
   */
  private unconverged(): string | undefined {
    const leaders = this.hosts.filter((h) => h.up && h.node.role === 'leader');
    if (leaders.length !== 1) return `liveness: after healing, ${leaders.length} leaders`;
    const voters = leaders[0].node.status().voters;
    const members = voters.map((id) => this.host(id));
    const gone = voters.filter((id) => !this.host(id)?.up);
    if (gone.length > 0) return `membership: voters ${voters.join(',')} include nodes shut down: ${gone.join(',')}`;
    const applied = members.map((h) => h.node.status().applied);
    const commit = members.map((h) => h.node.status().commit);
    const views = new Set(members.map((h) => h.node.status().voters.join(',')));
    if (new Set(applied).size !== 1 || views.size !== 1) {
      return `liveness: after healing, members ${voters.join(',')} applied=${applied.join(',')} commit=${commit.join(',')} voters=${[...views].join(' | ')}`;
    }
    return undefined;
  }
}
