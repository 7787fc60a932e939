import { createClient, type Client } from '@connectrpc/connect';
import type { Logger } from 'pino';
import pino from 'pino';
import { ResultService, type Event } from '../../libs/gen/dtf/result/v1/result_service_pb';
import { grpcSendBytesMax } from '../../libs/rpc/grpc-method';
import { createGrpcTransport, type GrpcTransport } from '../../libs/rpc/grpc-transport';
import { BatchPacer } from './batch-pacer';
import { ResultStore } from './result-store';

export const reconnectBackoffMaxMs = 5000;
/** The checkpoint is reported to the coordinator at most this often. */
export const checkpointIntervalMs = 1000;
/** Events written in one DuckDB transaction at most. */
export const batchEventsMax = 20_000;
/** Events read ahead of the writer at most, before reading pauses. */
export const bufferedEventsMax = 100_000;

export interface CollectorOptions {
  /** host:port of the coordinator's gRPC port (comma-separated: members of a cluster), dialled unless `feed` is given. */
  coordinator: string;
  /**
   * The coordinator's ResultService when it runs in this process (see
   * `inProcessClient`): the feed then skips encoding and loopback gRPC,
   * which cost as much CPU as storing the events.
   */
  feed?: Client<typeof ResultService>;
  databasePath: string;
  logger?: Logger;
}

/**
 * The result collector: tails the coordinator's committed-event feed from
 * the last index stored in DuckDB and stores each message of events in one
 * transaction, so a restart resumes exactly where the database left off.
 */
export class Collector {
  readonly logger: Logger;
  store!: ResultStore;
  connected = false;
  /** Newest event index the coordinator has, as last seen. */
  seenIndex = 0n;
  private transport: GrpcTransport | undefined;
  private client!: Client<typeof ResultService>;
  private abort = new AbortController();
  private loopDone: Promise<void> | undefined;
  private lastCheckpointMs = 0;
  private dialled = 0;
  private listeners: (() => void)[] = [];

  private constructor(private readonly opts: CollectorOptions) {
    this.logger = opts.logger ?? pino({ name: 'collector' });
  }

  static async start(opts: CollectorOptions): Promise<Collector> {
    const c = new Collector(opts);
    c.store = await ResultStore.open(opts.databasePath);
    if (opts.feed) {
      c.client = opts.feed;
    } else {
      c.dial();
    }
    c.loopDone = c.loop();
    return c;
  }

  /**
   * Connects to the next of the comma-separated coordinator addresses. Any
   * member of a cluster serves the feed (every member applies the same
   * committed entries), so after a failure the collector moves on.
   */
  private dial(): void {
    const addresses = this.opts.coordinator.split(',').map((a) => a.trim()).filter(Boolean);
    const address = addresses[this.dialled++ % addresses.length];
    this.transport?.close();
    this.transport = createGrpcTransport(address, {}, grpcSendBytesMax);
    this.client = createClient(ResultService, this.transport);
  }

  /** Resolves once the store holds every event up to `index`. */
  async waitFor(index: bigint, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.store.appliedIndex()) < index) {
      if (Date.now() > deadline) throw new Error(`collector did not reach event ${index} within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        this.listeners.push(() => { clearTimeout(t); r(); });
      });
    }
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.abort.signal.aborted) {
      try {
        await this.tail();
        failures = 0;
      } catch (e) {
        if (this.abort.signal.aborted) break;
        failures++;
        this.logger.warn({ err: (e as Error).message }, 'event feed interrupted');
        if (!this.opts.feed && this.opts.coordinator.includes(',')) this.dial();
      }
      this.connected = false;
      const wait = Math.min(reconnectBackoffMaxMs, 100 * 2 ** Math.min(failures, 8));
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  /**
   * Reads the feed and writes it in batches: while one DuckDB transaction
   * runs, newly arrived events gather for the next, and under load a batch
   * lingers briefly for more (see {@link BatchPacer}), so the per-transaction
   * cost is shared, while a lone event is still written at once.
   */
  private async tail(): Promise<void> {
    const after = await this.store.appliedIndex();
    const feed = this.client.tailEvents({ afterIndex: after }, { signal: this.abort.signal });
    const pacer = new BatchPacer();
    const pending: Event[] = [];
    let writing: Promise<void> | undefined;
    let failure: Error | undefined;
    const write = async () => {
      while (pending.length > 0 && !failure) {
        for (let wait = pacer.delayMs(pending.length); wait > 0; wait = pacer.delayMs(pending.length)) {
          await new Promise((r) => setTimeout(r, wait));
        }
        pacer.started();
        const batch = pending.splice(0, batchEventsMax);
        try {
          await this.stored(batch);
        } catch (e) {
          failure = e as Error;
        }
      }
      writing = undefined;
    };
    for await (const msg of feed) {
      this.connected = true;
      if (failure) break;
      for (const e of msg.events) pending.push(e);
      pacer.arrived();
      writing ??= write();
      // Bound what waits in memory: past it, stop reading until the writer catches up.
      if (pending.length >= bufferedEventsMax) await writing;
    }
    await writing;
    if (failure) throw failure;
  }

  private async stored(batch: Event[]): Promise<void> {
    await this.store.applyEvents(batch);
    const last = batch[batch.length - 1].index;
    if (last > this.seenIndex) this.seenIndex = last;
    for (const l of this.listeners.splice(0)) l();
    if (Date.now() - this.lastCheckpointMs >= checkpointIntervalMs) {
      this.lastCheckpointMs = Date.now();
      this.client.commitCheckpoint({ index: last }).catch((e: Error) => this.logger.warn({ err: e.message }, 'checkpoint not recorded'));
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loopDone?.catch(() => {});
    this.transport?.close();
    await this.store.close();
  }
}
