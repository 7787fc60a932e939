import type { AttemptKey, Load } from '../../libs/gen/dtf/common/v1/common_pb';
import type { Assignment, ConnectResponse } from '../../libs/gen/dtf/worker/v1/worker_service_pb';
import type { AsyncQueue } from '../../libs/rpc/async-queue';

/** Messages an HTTP-only worker has not collected yet are bounded. */
export const httpOutboxMax = 10_000;

/**
 * One connection of one worker: the leader's soft state about it (credits,
 * last contact, load) and the way to send it messages. A stream session
 * pushes on the worker's stream; an HTTP-only session buffers until the
 * worker's next status call collects them.
 */
export class WorkerSession {
  credits: number;
  /**
   * Credits the worker must have before it is sent more: half its prefetch
   * queue (at least 1). A worker whose queue is more than half full has
   * work in hand, so topping it up a task at a time would only make more,
   * smaller messages; its assignments wait for half the queue to free and
   * travel together. A worker without prefetch is sent work for any credit.
   */
  readonly refillCredits: number;
  lastSeenMs: number;
  load: Load | undefined;
  running: AttemptKey[] = [];
  closed = false;
  /** For HTTP-only workers: what their next status call returns. */
  readonly outbox = { assignments: [] as Assignment[], acked: [] as AttemptKey[], rejected: [] as AttemptKey[], cancel: [] as AttemptKey[], drain: false };

  constructor(
    readonly workerId: string,
    readonly epoch: bigint,
    readonly slots: number,
    credits: number,
    nowMs: number,
    private readonly stream: AsyncQueue<ConnectResponse> | undefined,
    /** Of `slots`, how many are the worker's prefetch queue (Hello.prefetch). */
    readonly prefetch = 0,
  ) {
    this.credits = Math.max(0, Math.min(credits, slots));
    this.refillCredits = Math.max(1, Math.ceil(prefetch / 2));
    this.lastSeenMs = nowMs;
  }

  /** Open and with at least {@link refillCredits} credits: a round may send it work. */
  get wantsWork(): boolean {
    return !this.closed && this.credits >= this.refillCredits;
  }

  get httpOnly(): boolean {
    return this.stream === undefined;
  }

  send(msg: ConnectResponse['msg']): void {
    if (this.closed) return;
    if (this.stream) {
      this.stream.push({ $typeName: 'dtf.worker.v1.ConnectResponse', msg });
      return;
    }
    const o = this.outbox;
    switch (msg.case) {
      case 'assign': o.assignments.push(...msg.value.assignments); break;
      case 'ack': o.acked.push(...msg.value.keys); break;
      case 'reject': o.rejected.push(...msg.value.keys); break;
      case 'cancel': o.cancel.push(...msg.value.keys); break;
      case 'drain': o.drain = true; break;
      default: break;
    }
    for (const list of [o.acked, o.rejected, o.cancel]) if (list.length > httpOutboxMax) list.splice(0, list.length - httpOutboxMax);
  }

  /** Takes what an HTTP-only worker's status call should return. */
  collect(): WorkerSession['outbox'] {
    const o = { ...this.outbox };
    this.outbox.assignments = [];
    this.outbox.acked = [];
    this.outbox.rejected = [];
    this.outbox.cancel = [];
    return o;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream?.end();
  }
}
