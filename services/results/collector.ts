import { createClient, type Client } from '@connectrpc/connect';
import type { Logger } from 'pino';
import pino from 'pino';
import { ResultService, type Event } from '../../libs/gen/dtf/result/v1/result_service_pb';
import { grpcSendBytesMax } from '../../libs/rpc/grpc-method';
import { createGrpcTransport, type GrpcTransport } from '../../libs/rpc/grpc-transport';
import { BatchPacer, batchEventsTarget } from './batch-pacer';
import { prepareBatch, type PreparedBatch } from './prepared-batch';
import { quietCheckpointBytes, ResultStore } from './result-store';

export const reconnectBackoffMaxMs = 5000;
/** The checkpoint is reported to the coordinator at most this often. */
export const checkpointIntervalMs = 1000;
/** Events read ahead of the writer at most, before reading pauses until a batch is written. */
export const bufferedEventsMax = 3 * batchEventsTarget;

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
   * cost is shared, while a lone event is still written at once. The next
   * batch's rows are built while DuckDB commits the previous one, so this
   * thread's work and DuckDB's overlap. Once everything read is stored and
   * the coordinator is idle, the collector checkpoints (see
   * {@link checkpointIfQuiet}).
   */
  private async tail(): Promise<void> {
    // The applied index the next prepared batch starts from: the last one
    // prepared, which is written before the next (a failed write ends the tail).
    let after = await this.store.appliedIndex();
    const feed = this.client.tailEvents({ afterIndex: after }, { signal: this.abort.signal });
    const pacer = new BatchPacer();
    const pending: Event[] = [];
    let writing: Promise<void> | undefined;
    let failure: Error | undefined;
    let wakeReader: (() => void) | undefined;
    const take = (): PreparedBatch => {
      pacer.started();
      const batch = prepareBatch(pending.splice(0, batchEventsTarget), after);
      after = batch.last;
      return batch;
    };
    const write = async () => {
      let next: PreparedBatch | undefined;
      while ((next || pending.length > 0) && !failure) {
        try {
          if (!next) {
            for (let wait = pacer.delayMs(pending.length); wait > 0; wait = pacer.delayMs(pending.length)) {
              await new Promise((r) => setTimeout(r, wait));
            }
            next = take();
          }
          const batch = next;
          next = undefined;
          await this.store.write(batch, () => {
            if (pending.length === 0 || pacer.delayMs(pending.length) > 0) return;
            try {
              next = take();
            } catch (e) {
              failure = e as Error;
            }
          });
          this.stored(batch.last);
        } catch (e) {
          failure ??= e as Error;
        }
        // Reading paused at bufferedEventsMax resumes once a batch is out of memory.
        wakeReader?.();
        wakeReader = undefined;
        if (!next && pending.length === 0 && !failure && pacer.coordinatorIdle) await this.checkpointIfQuiet();
      }
      writing = undefined;
    };
    for await (const msg of feed) {
      this.connected = true;
      if (failure) break;
      for (const e of msg.events) pending.push(e);
      pacer.arrived(msg.idle);
      writing ??= write();
      if (pending.length >= bufferedEventsMax) await new Promise<void>((r) => { wakeReader = r; });
    }
    await writing;
    if (failure) throw failure;
  }

  /**
   * Everything read so far is stored and the feed said the coordinator has
   * nothing queued or running: a quiet moment to move DuckDB's write-ahead
   * log into the database file, once it holds {@link quietCheckpointBytes},
   * rather than inside a commit in the middle of the next burst (see
   * `walCheckpointMiB`). Under steady load the collector drains its buffer
   * after every batch, so that alone is no sign of quiet: checkpointing then
   * would take DuckDB's time from the batches. A failed checkpoint loses
   * nothing (see {@link ResultStore.checkpoint}): it is logged, and the next
   * quiet moment tries again. Events that arrive meanwhile wait for it (tens
   * of ms per MiB).
   */
  private async checkpointIfQuiet(): Promise<void> {
    if ((await this.store.walBytes()) < quietCheckpointBytes) return;
    await this.store.checkpoint().catch((e: Error) => this.logger.warn({ err: e.message }, 'DuckDB checkpoint failed; the next quiet moment tries again'));
  }

  private stored(last: bigint): void {
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
