import * as fs from 'node:fs';
import * as path from 'node:path';
import { OutputStream, type LogChunk } from '../../libs/gen/dtf/worker/v1/worker_service_pb';

/** Output kept per attempt and stream at most; the rest is dropped. */
export const outputBytesMax = 16 * 1024 * 1024;

/**
 * Keeps tasks' stdout/stderr in bounded files, one per attempt and stream,
 * on the coordinator that received them. Output never goes through the log.
 */
export class OutputStore {
  private readonly sizes = new Map<string, number>();

  constructor(private readonly dir: string) {}

  fileFor(taskId: string, attempt: number, stream: 'stdout' | 'stderr'): string {
    return path.join(this.dir, safe(taskId), `${attempt}.${stream}`);
  }

  append(chunk: LogChunk): void {
    if (!chunk.key) return;
    const stream = chunk.stream === OutputStream.STDERR ? 'stderr' : 'stdout';
    const file = this.fileFor(chunk.key.taskId, chunk.key.attempt, stream);
    const used = this.sizes.get(file) ?? 0;
    const room = outputBytesMax - used;
    if (room <= 0) return;
    const data = chunk.data.subarray(0, room);
    this.sizes.set(file, used + data.length);
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.appendFileSync(file, data);
    } catch {
      // Output is best effort: a full disk must not stop results.
    }
  }

  /** Reads what is kept of an attempt's stream, or '' when nothing is. */
  read(taskId: string, attempt: number, stream: 'stdout' | 'stderr'): string {
    try {
      return fs.readFileSync(this.fileFor(taskId, attempt, stream), 'utf8');
    } catch {
      return '';
    }
  }
}

function safe(id: string): string {
  return id.replace(/[^\w.-]/g, '_');
}
