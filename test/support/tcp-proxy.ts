import * as net from 'node:net';

/** What a proxy does to its traffic. */
export interface ProxyFaults {
  /** Accept and hold connections but pass no bytes either way (a cable pulled, no RST). */
  blackhole: boolean;
  /** Delay every chunk by this much, each way. */
  delayMs: number;
  /** Drop each new connection with this probability (closed with RST at once). */
  dropRate: number;
}

/** Open connections one proxy keeps at most; more are refused. */
export const proxyConnectionsMax = 256;

/**
 * A TCP proxy on 127.0.0.1 for chaos tests: forwards to `target` and can
 * blackhole, delay, drop or reset its connections. One proxy is one
 * direction of one link (e.g. coordinator 1 → coordinator 2), so a partition
 * is a set of blackholed proxies.
 */
export class TcpProxy {
  readonly faults: ProxyFaults = { blackhole: false, delayMs: 0, dropRate: 0 };
  private readonly server: net.Server;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  port = 0;

  constructor(
    readonly label: string,
    readonly target: { host: string; port: number },
    private readonly random: () => number,
  ) {
    this.server = net.createServer((client) => this.accept(client));
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async listen(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  /** Cuts the link: existing and new connections pass nothing. */
  blackhole(on: boolean): void {
    this.faults.blackhole = on;
  }

  /** Resets every open connection (RST), as a crashed peer's kernel would. */
  reset(): void {
    for (const [a, b] of this.pairs) {
      a.resetAndDestroy();
      b.resetAndDestroy();
    }
    this.pairs.clear();
  }

  private accept(client: net.Socket): void {
    if (this.pairs.size >= proxyConnectionsMax || this.random() < this.faults.dropRate) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(this.target.port, this.target.host);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    this.pairs.add(pair);
    const close = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of pair) {
      s.on('error', close);
      s.on('close', close);
      s.setNoDelay(true);
    }
    this.pipe(client, upstream);
    this.pipe(upstream, client);
  }

  private pipe(from: net.Socket, to: net.Socket): void {
    // Delayed chunks keep their order even when the delay changes.
    let dueMs = 0;
    from.on('data', (chunk: Buffer) => {
      if (this.faults.blackhole) return; // Swallowed: the sender sees no error, only silence.
      const now = Date.now();
      if (this.faults.delayMs <= 0 && dueMs <= now) {
        if (to.writable) to.write(chunk);
        return;
      }
      dueMs = Math.max(dueMs, now + this.faults.delayMs);
      setTimeout(() => to.writable && to.write(chunk), dueMs - now);
    });
  }

  async close(): Promise<void> {
    this.reset();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
