import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { AttemptResultSchema, type AttemptKey, type AttemptResult } from '../../libs/gen/dtf/common/v1/common_pb';
import { safeName } from './safe-name';

/** Results held at most; past this the worker should stop taking work until acknowledgements catch up. */
export const outboxResultsMax = 10_000;

const resultSuffix = '.result';
const tempSuffix = '.tmp';
const corruptSuffix = '.corrupt';

/** Options for {@link ResultOutbox}. */
export interface ResultOutboxOptions {
  /** Told about files found corrupt at load; they are renamed to *.corrupt and skipped. */
  onWarning?: (message: string) => void;
  /** Defaults to {@link outboxResultsMax}. */
  resultsMax?: number;
}

/**
 * Finished results the coordinator has not acknowledged yet, kept on disk one file per
 * attempt, so that a worker restart or a coordinator failover loses none: the worker re-sends
 * {@link ResultOutbox.list} after every (re)connection and removes a result once it is
 * acknowledged as committed.
 *
 * A file is written to a temporary name, fsynced and renamed, and the directory is fsynced,
 * so after a crash a file is either whole or absent. Operations on one attempt run in the
 * order they were called.
 */
export class ResultOutbox {
  private readonly results = new Map<string, AttemptResult>();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly reserved = new Set<string>();
  private readonly resultsMax: number;
  private tempCounter = 0;

  /** Creates `dir` if needed and loads what it holds, synchronously, so list() is ready at once. */
  constructor(private readonly dir: string, opts: ResultOutboxOptions = {}) {
    this.resultsMax = opts.resultsMax ?? outboxResultsMax;
    mkdirSync(dir, { recursive: true });
    this.load(opts.onWarning ?? (() => undefined));
  }

  /** How many results are held. */
  get size(): number {
    return this.results.size;
  }

  /** The held results, oldest finish first. */
  list(): AttemptResult[] {
    return [...this.results.values()].sort((a, b) => Number(a.finishedAtMs - b.finishedAtMs));
  }

  /**
   * Stores a result durably, replacing one for the same attempt. Resolves once it is on disk.
   * Rejects, storing nothing, when the outbox is full or the result has no key.
   */
  add(result: AttemptResult): Promise<void> {
    if (!result.key || result.key.taskId === '') {
      return Promise.reject(new Error('result outbox: a result without a key (task_id, attempt) cannot be stored'));
    }
    const name = fileName(result.key);
    if (!this.results.has(name) && !this.reserved.has(name) && this.results.size + this.reserved.size >= this.resultsMax) {
      return Promise.reject(
        new Error(`result outbox ${this.dir} is full (${this.resultsMax} unacknowledged results); take no new work until the coordinator acknowledges some`),
      );
    }
    this.reserved.add(name);
    const bytes = toBinary(AttemptResultSchema, result);
    return this.serial(name, async () => {
      try {
        await this.writeAtomically(name, bytes);
        this.results.set(name, result);
      } finally {
        this.reserved.delete(name);
      }
    });
  }

  /**
   * Forgets the result of an attempt once the coordinator has acknowledged it. Removing one
   * that is not held is fine (acknowledgements can repeat after a reconnect). The directory is
   * not fsynced: if the removal is lost in a crash the result is sent again, and the
   * coordinator records each attempt once.
   */
  remove(key: AttemptKey): Promise<void> {
    const name = fileName(key);
    return this.serial(name, async () => {
      this.results.delete(name);
      try {
        await unlink(path.join(this.dir, name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    });
  }

  private async writeAtomically(name: string, bytes: Uint8Array): Promise<void> {
    const temp = path.join(this.dir, `${name}.${process.pid}.${++this.tempCounter}${tempSuffix}`);
    const file = await open(temp, 'w');
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path.join(this.dir, name));
    // The rename is durable only once the directory entry is.
    const dirHandle = await open(this.dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  }

  /** Runs `op` after every earlier operation on the same file, so an add and a remove cannot cross. */
  private serial(name: string, op: () => Promise<void>): Promise<void> {
    const previous = this.queues.get(name) ?? Promise.resolve();
    const next = previous.then(op, op);
    const settled = next.catch(() => undefined);
    this.queues.set(name, settled);
    void settled.then(() => {
      if (this.queues.get(name) === settled) this.queues.delete(name);
    });
    return next;
  }

  private load(warn: (message: string) => void): void {
    for (const entry of readdirSync(this.dir).sort()) {
      const file = path.join(this.dir, entry);
      if (entry.endsWith(tempSuffix)) {
        // A write that crashed before its rename; the result it held was never acknowledged as stored.
        unlinkSync(file);
        continue;
      }
      if (!entry.endsWith(resultSuffix)) continue;
      if (this.results.size >= this.resultsMax) {
        warn(`result outbox ${this.dir}: holds more than ${this.resultsMax} results; loaded the first ${this.resultsMax}`);
        break;
      }
      const result = readResult(file, entry);
      if (typeof result === 'string') {
        warn(`result outbox: skipped ${file}: ${result}; renamed it to ${entry}${corruptSuffix} for inspection`);
        renameSync(file, `${file}${corruptSuffix}`);
        continue;
      }
      this.results.set(entry, result);
    }
  }
}

/** The result in `file`, or why it cannot be used. */
function readResult(file: string, entry: string): AttemptResult | string {
  let result: AttemptResult;
  try {
    result = fromBinary(AttemptResultSchema, readFileSync(file));
  } catch (err) {
    return `not a valid AttemptResult (${(err as Error).message})`;
  }
  if (!result.key || result.key.taskId === '') return 'the result has no key';
  if (fileName(result.key) !== entry) return `it holds the result of ${result.key.taskId} attempt ${result.key.attempt}, which belongs in another file`;
  return result;
}

function fileName(key: AttemptKey): string {
  return `${safeName(key.taskId)}.${key.attempt}${resultSuffix}`;
}
