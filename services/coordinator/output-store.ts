import * as fs from 'node:fs';
import * as path from 'node:path';
import { OutputStream, type LogChunk } from '../../libs/gen/dtf/worker/v1/worker_service_pb';

/** Output kept per attempt and stream at most; the rest is dropped. */
export const outputBytesMax = 16 * 1024 * 1024;
/** Files whose size and directory are remembered at most; past it the memory starts over from disk. */
export const trackedFilesMax = 100_000;

/**
 * Keeps tasks' stdout/stderr in bounded files, one per attempt and stream,
 * on the coordinator that received them. Output never goes through the log.
 */
export class OutputStore {
  private readonly sizes = new Map<string, number>();
  /** Directories already made, so a chunk costs one append, not a mkdir too. */
  private readonly dirs = new Set<string>();

  constructor(private readonly dir: string) {}

  fileFor(taskId: string, attempt: number, stream: 'stdout' | 'stderr'): string {
    return path.join(this.dir, safe(taskId), `${attempt}.${stream}`);
  }

  append(chunk: LogChunk): void {
    if (!chunk.key) return;
    const stream = chunk.stream === OutputStream.STDERR ? 'stderr' : 'stdout';
    const file = this.fileFor(chunk.key.taskId, chunk.key.attempt, stream);
    if (this.sizes.size >= trackedFilesMax) {
      this.sizes.clear();
      this.dirs.clear();
    }
    const used = this.sizes.get(file) ?? sizeOnDisk(file);
    const room = outputBytesMax - used;
    if (room <= 0) return;
    const data = chunk.data.subarray(0, room);
    this.sizes.set(file, used + data.length);
    try {
      const dir = path.dirname(file);
      if (!this.dirs.has(dir)) {
        fs.mkdirSync(dir, { recursive: true });
        this.dirs.add(dir);
      }
      fs.appendFileSync(file, data);
    } catch {
      // Output is best effort: a full disk must not stop results.
    }
  }
}

function sizeOnDisk(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function safe(id: string): string {
  return id.replace(/[^\w.-]/g, '_');
}
