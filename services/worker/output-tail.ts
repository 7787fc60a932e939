import { tailUtf8 } from './truncate-utf8';

/** Bytes of each output stream kept for a result's stdout_tail / stderr_tail. */
export const tailBytesMax = 16 * 1024;

/** Keeps the last bytes of a stream, so a result can say how a task ended without its whole log. */
export class OutputTail {
  private buffers: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly bytesMax: number = tailBytesMax) {}

  /** Takes the next bytes of the stream. */
  push(data: Buffer): void {
    this.buffers.push(data);
    this.bytes += data.length;
    // Drop whole buffers that lie entirely before the last bytesMax bytes.
    while (this.buffers.length > 1 && this.bytes - this.buffers[0].length >= this.bytesMax) {
      this.bytes -= (this.buffers.shift() as Buffer).length;
    }
  }

  /** The kept bytes as text, at most bytesMax bytes, starting on a character boundary. */
  toString(): string {
    return tailUtf8(Buffer.concat(this.buffers, this.bytes), this.bytesMax);
  }
}
