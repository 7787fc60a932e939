/**
 * A simulated network: every message gets a random delay (which reorders
 * them), may be dropped or duplicated, and is lost when its link is cut.
 * Links are directed, so a partition can be one-way.
 */
import type { SeededRng } from '../../libs/raft/rng';
import type { Message } from '../../libs/raft/types';

/** Fault rates and delays of the simulated network, in simulated time units. */
export interface NetworkFaults {
  dropRate: number;
  duplicateRate: number;
  delayMin: number;
  delayMax: number;
}

/** Messages in flight, bucketed by delivery time. */
export class SimNetwork {
  private buckets = new Map<number, Message[]>();
  private blocked = new Set<number>();
  /** Bound on messages in flight, so a runaway loop fails loudly. */
  static readonly inflightMessagesMax = 200_000;
  private inflight = 0;

  constructor(
    private readonly rng: SeededRng,
    public faults: NetworkFaults,
  ) {}

  private link(from: number, to: number): number {
    return from * 1024 + to;
  }

  cut(from: number, to: number): void {
    this.blocked.add(this.link(from, to));
  }

  heal(): void {
    this.blocked.clear();
  }

  isCut(from: number, to: number): boolean {
    return this.blocked.has(this.link(from, to));
  }

  send(now: number, m: Message): void {
    if (this.isCut(m.from, m.to) || this.rng.chance(this.faults.dropRate)) return;
    const copies = this.rng.chance(this.faults.duplicateRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const at = now + this.faults.delayMin + this.rng.nextInt(this.faults.delayMax - this.faults.delayMin + 1);
      let bucket = this.buckets.get(at);
      if (!bucket) this.buckets.set(at, (bucket = []));
      bucket.push(m);
      if (++this.inflight > SimNetwork.inflightMessagesMax) throw new Error('sim network: too many messages in flight');
    }
  }

  /** Messages due at `now`; a link cut while they flew still loses them. */
  due(now: number): Message[] {
    const bucket = this.buckets.get(now);
    if (!bucket) return [];
    this.buckets.delete(now);
    this.inflight -= bucket.length;
    return bucket.filter((m) => !this.isCut(m.from, m.to));
  }
}
