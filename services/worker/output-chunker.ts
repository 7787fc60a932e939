/** A piece of a task's output, ready to go into a LogChunk. */
export interface OutputChunk {
  stream: 'stdout' | 'stderr';
  data: Buffer;
  /** Byte offset of `data` within its stream. */
  offset: number;
}

/** Largest chunk emitted; keeps each LogChunk message well under gRPC's message limit. */
export const chunkBytesMax = 64 * 1024;
/** Small writes are held at most this long so that a chatty task sends few, larger messages. */
export const flushIntervalMs = 100;

/** Options for {@link OutputChunker}. */
export interface OutputChunkerOptions {
  chunkBytesMax?: number;
  flushIntervalMs?: number;
}

/**
 * Turns one output stream's writes into bounded chunks with offsets: full chunks go out at
 * once, a remainder goes out when the flush interval after its first byte ends, or on
 * {@link OutputChunker.flush}. Chunks of a stream come out in order and cover it exactly.
 */
export class OutputChunker {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private emitted = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly chunkBytesMax: number;
  private readonly flushIntervalMs: number;

  constructor(
    private readonly stream: 'stdout' | 'stderr',
    private readonly emit: (chunk: OutputChunk) => void,
    opts: OutputChunkerOptions = {},
  ) {
    this.chunkBytesMax = opts.chunkBytesMax ?? chunkBytesMax;
    this.flushIntervalMs = opts.flushIntervalMs ?? flushIntervalMs;
  }

  /** Bytes written so far, emitted or not. */
  get bytesWritten(): number {
    return this.emitted + this.pendingBytes;
  }

  /** Takes the next bytes of the stream. */
  write(data: Buffer): void {
    if (data.length === 0) return;
    this.pending.push(data);
    this.pendingBytes += data.length;
    while (this.pendingBytes >= this.chunkBytesMax) this.emitBytes(this.chunkBytesMax);
    if (this.pendingBytes > 0 && !this.timer) {
      this.timer = setTimeout(() => this.flush(), this.flushIntervalMs);
    } else if (this.pendingBytes === 0) {
      this.clearTimer();
    }
  }

  /** Emits whatever is pending now; call it when the stream ends. */
  flush(): void {
    this.clearTimer();
    if (this.pendingBytes > 0) this.emitBytes(this.pendingBytes);
  }

  private emitBytes(count: number): void {
    const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    const data = all.subarray(0, count);
    const rest = all.subarray(count);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    const offset = this.emitted;
    this.emitted += count;
    this.emit({ stream: this.stream, data, offset });
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
