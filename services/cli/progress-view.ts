import { type Job, type Task } from '../../libs/gen/dtf/common/v1/common_pb';
import { durationSeconds, stateName } from './results-table';
import { isFinal } from '../../libs/state/task-transitions';

export const barChars = 30;

/**
 * Shows a job's progress: on a terminal, one bar redrawn in place; otherwise
 * one plain line per finished task, so logs stay readable in CI.
 */
export class ProgressView {
  private readonly startedMs = Date.now();
  private readonly reported = new Set<string>();

  constructor(private readonly out: NodeJS.WriteStream, private readonly tty = Boolean(out.isTTY)) {}

  update(job: Job, changed: Task[]): void {
    if (this.tty) {
      this.out.write(`\r\x1b[2K${this.bar(job)}`);
      return;
    }
    for (const t of changed) {
      if (!isFinal(t.state) || this.reported.has(t.id)) continue;
      this.reported.add(t.id);
      const d = durationSeconds(t);
      const c = job.counts!;
      const done = c.succeeded + c.failed + c.errored + c.cancelled;
      this.out.write(`[${done}/${c.total}] ${stateName(t.state)} ${t.spec?.name || t.id}${d === undefined ? '' : ` (${d.toFixed(1)}s)`}\n`);
    }
  }

  finish(job: Job): void {
    if (this.tty) this.out.write(`\r\x1b[2K${this.bar(job)}\n`);
  }

  private bar(job: Job): string {
    const c = job.counts!;
    const done = c.succeeded + c.failed + c.errored + c.cancelled;
    const filled = c.total === 0 ? barChars : Math.round((done / c.total) * barChars);
    const secs = ((Date.now() - this.startedMs) / 1000).toFixed(1);
    return `${job.name} [${'#'.repeat(filled)}${'-'.repeat(barChars - filled)}] ${done}/${c.total}  ok ${c.succeeded}  failed ${c.failed + c.errored}  running ${c.running}  pending ${c.pending}  ${secs}s`;
  }
}

