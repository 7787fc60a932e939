/** Width of the bar in characters. */
const barWidth = 30;
/** A TTY bar is redrawn at most this often, so it costs nothing measurable. */
const redrawIntervalMs = 100;

/**
 * A progress indicator for a long scenario: a bar redrawn in place on a
 * terminal, plain lines (one per step) when the output is a file or a pipe,
 * so CI logs stay readable.
 */
export class Progress {
  private done = 0;
  private lastDrawMs = 0;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = out.isTTY === true;
  }

  /** Marks one step done and says what it was. */
  step(what: string): void {
    this.done = Math.min(this.total, this.done + 1);
    if (this.tty) this.draw(what, true);
    else this.out.write(`  ${this.label} [${this.done}/${this.total}] ${what}\n`);
  }

  /** Shows what is running now (a TTY only; plain output stays quiet). */
  note(what: string): void {
    if (this.tty) this.draw(what, false);
  }

  /** Clears the bar so the next output starts on a clean line. */
  finish(): void {
    if (this.tty) this.out.write('\r\x1b[2K');
  }

  private draw(what: string, force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastDrawMs < redrawIntervalMs) return;
    this.lastDrawMs = now;
    const filled = Math.round((this.done / this.total) * barWidth);
    const bar = '█'.repeat(filled) + '░'.repeat(barWidth - filled);
    const columns = this.out.columns ?? 100;
    const line = `  ${this.label} ${bar} ${this.done}/${this.total} ${what}`;
    this.out.write(`\r\x1b[2K${line.slice(0, columns - 1)}`);
  }
}
