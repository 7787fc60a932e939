import type { Message } from '../raft/types';
import type { PeerTransport } from './raft-host';

/**
 * Peers in one process, for tests: messages are delivered on a later turn
 * of the event loop, and links can be cut both ways.
 */
export class MemoryNetwork {
  private readonly members = new Map<number, (m: Message) => void>();
  private readonly cut = new Set<number>();
  /** Messages delivered and dropped, for tests. */
  delivered = 0;
  dropped = 0;

  /** Registers how member `id` takes messages; returns its transport. */
  join(id: number, deliver: (m: Message) => void): PeerTransport {
    this.members.set(id, deliver);
    return {
      send: (messages) => {
        for (const m of messages) setImmediate(() => this.deliver(m));
      },
      close: async () => {
        this.members.delete(id);
      },
    };
  }

  /** Cuts every link of `id` (true) or heals them (false). */
  isolate(id: number, isolated: boolean): void {
    if (isolated) this.cut.add(id);
    else this.cut.delete(id);
  }

  private deliver(m: Message): void {
    const to = this.members.get(m.to);
    if (!to || this.cut.has(m.to) || this.cut.has(m.from)) {
      this.dropped++;
      return;
    }
    this.delivered++;
    to(m);
  }
}
