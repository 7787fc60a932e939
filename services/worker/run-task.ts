import { spawn, type ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { create } from '@bufbuild/protobuf';
import {
  AttemptOutcome,
  AttemptResultSchema,
  ResourceUsageSchema,
  TestCaseStatus,
  type AttemptKey,
  type AttemptResult,
  type TaskSpec,
} from '../../libs/gen/dtf/common/v1/common_pb';
import { prepareAttemptDirs, type AttemptDirs } from './attempt-dirs';
import { OutputChunker, type OutputChunk } from './output-chunker';
import { OutputTail, tailBytesMax } from './output-tail';
import { ProcessTreeSampler } from './process-tree-sampler';
import { readTaskOutput, type TaskOutput } from './read-task-output';

export type { OutputChunk } from './output-chunker';

/** How long a task's process group has between SIGTERM and SIGKILL, unless told otherwise. */
export const killGraceMs = 5_000;
/** How often CPU and memory are sampled, unless told otherwise. */
export const sampleIntervalMs = 1_000;
/** After the task exits, how long to wait for its output pipes to drain before closing them. */
export const stdioDrainMs = 2_000;
// setTimeout fires at once for delays past 2^31 - 1 ms (about 24.8 days), so longer ones are cut to this.
const timerDelayMsMax = 2 ** 31 - 1;

/** Options for {@link runTask}. */
export interface RunTaskOptions {
  key: AttemptKey;
  /** Each attempt runs in a fresh `<workRoot>/<task_id>/<attempt>`. */
  workRoot: string;
  /** Used when spec.timeout_ms is 0; 0 here too means no timeout. */
  defaultTimeoutMs: number;
  /** Grace between SIGTERM and SIGKILL on timeout; defaults to {@link killGraceMs}. */
  killGraceMs?: number;
  /** Receives output in order, in chunks of at most 64 KiB; must not throw. */
  onOutput?: (chunk: OutputChunk) => void;
  /** Receives each CPU/memory sample of the task's process tree; must not throw. */
  onSample?: (cpuPercent: number, memoryBytes: number) => void;
  /** Defaults to {@link sampleIntervalMs}. */
  sampleIntervalMs?: number;
  /** Bytes kept for stdout_tail and stderr_tail; defaults to 16 KiB. */
  tailBytesMax?: number;
  /** Copied into the result. */
  workerId?: string;
  /** Clock for started_at_ms / finished_at_ms; defaults to Date.now. */
  now?: () => number;
  /** Set over the spec's own env: which devices the attempt may use (see DeviceLeases). */
  deviceEnv?: Record<string, string>;
}

/** An attempt that has been started. */
export interface RunningTask {
  /** Settles once the attempt is over; never rejects. */
  readonly result: Promise<AttemptResult>;
  /** SIGTERM the process group, then SIGKILL it after `graceMs`; the outcome is CANCELLED. No-op once finished. */
  cancel(graceMs: number): void;
}

/**
 * Runs one attempt of a task as a child process leading its own process group, so that a
 * timeout or cancel can kill everything it started. Its output streams out through
 * `onOutput`; when it exits, anything left in its group is killed, and the junit.xml and
 * metrics.json it wrote to $DTF_OUTPUT_DIR are read into the result.
 */
export function runTask(spec: TaskSpec, opts: RunTaskOptions): RunningTask {
  const attempt = new Attempt(spec, opts);
  return { result: attempt.run(), cancel: (graceMs) => attempt.stop('cancel', graceMs) };
}

type StopReason = 'timeout' | 'cancel';
type Exit = { code: number | null; signal: NodeJS.Signals | null };

class Attempt {
  private readonly now: () => number;
  private child: ChildProcess | undefined;
  private finished = false;
  private exited = false;
  private readonly chunkers: OutputChunker[] = [];
  private stopReason: StopReason | undefined;
  private killedHard = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly usage = { cpuPercentMax: 0, memoryBytesMax: 0 };
  private readonly tails: Record<'stdout' | 'stderr', OutputTail>;

  constructor(private readonly spec: TaskSpec, private readonly opts: RunTaskOptions) {
    this.now = opts.now ?? Date.now;
    const tailMax = opts.tailBytesMax ?? tailBytesMax;
    this.tails = { stdout: new OutputTail(tailMax), stderr: new OutputTail(tailMax) };
  }

  async run(): Promise<AttemptResult> {
    const startedAtMs = this.now();
    try {
      return await this.runChecked(startedAtMs);
    } catch (err) {
      return this.result({ startedAtMs, outcome: AttemptOutcome.START_FAILED, error: (err as Error).message });
    } finally {
      this.finished = true;
      this.clearTimers();
    }
  }

  /** Sends SIGTERM to the group now and SIGKILL after `graceMs`; the first reason given wins. */
  stop(reason: StopReason, graceMs: number): void {
    if (this.finished || this.exited || this.stopReason) return;
    this.stopReason = reason;
    const pid = this.child?.pid;
    // Before the spawn, recording the reason is enough: run() checks it and does not start.
    if (pid === undefined) return;
    killGroup(pid, 'SIGTERM');
    this.timers.push(
      setTimeout(() => {
        this.killedHard = true;
        killGroup(pid, 'SIGKILL');
      }, Math.min(Math.max(0, graceMs), timerDelayMsMax)),
    );
  }

  private async runChecked(startedAtMs: number): Promise<AttemptResult> {
    const command = commandOf(this.spec);
    const dirs = await prepareAttemptDirs(this.opts.workRoot, this.opts.key, this.spec.workingDir);
    if (this.stopReason) {
      return this.result({ startedAtMs, outcome: AttemptOutcome.CANCELLED, error: 'cancelled before it started' });
    }
    const child = spawn(command.file, command.args, {
      cwd: dirs.cwd,
      env: this.env(dirs),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const spawnError = await new Promise<Error | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', resolve);
    });
    if (spawnError) throw new Error(describeSpawnError(spawnError, command.file, dirs.cwd));
    const pid = child.pid as number;
    const running = this.now();
    this.watch(child, pid);
    const exit = await exited;
    this.exited = true;
    const finishedAtMs = this.now();
    this.clearTimers();
    // Whatever the task left running in its group would hold its pipes open and outlive it.
    killGroup(pid, 'SIGKILL');
    await this.drain(child, closed);
    for (const chunker of this.chunkers) chunker.flush();
    const output = await readTaskOutput(dirs.outputDir);
    return this.finish(running, finishedAtMs, exit, output);
  }

  /** Pipes output, starts the timeout and the sampler. */
  private watch(child: ChildProcess, pid: number): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const chunker = new OutputChunker(stream, (chunk) => this.opts.onOutput?.(chunk));
      this.chunkers.push(chunker);
      const source = child[stream];
      source?.on('data', (data: Buffer) => {
        chunker.write(data);
        this.tails[stream].push(data);
      });
      source?.once('close', () => chunker.flush());
    }
    const timeoutMs = this.spec.timeoutMs || this.opts.defaultTimeoutMs;
    if (timeoutMs > 0) {
      const grace = this.opts.killGraceMs ?? killGraceMs;
      this.timers.push(setTimeout(() => this.stop('timeout', grace), Math.min(timeoutMs, timerDelayMsMax)));
    }
    const sampler = new ProcessTreeSampler(pid, { now: this.now });
    const interval = setInterval(() => {
      let sample;
      try {
        sample = sampler.sample();
      } catch {
        // An unreadable /proc costs us the usage figures, not the attempt.
        clearInterval(interval);
        return;
      }
      const { cpuPercent, memoryBytes } = sample;
      this.usage.cpuPercentMax = Math.max(this.usage.cpuPercentMax, cpuPercent);
      this.usage.memoryBytesMax = Math.max(this.usage.memoryBytesMax, memoryBytes);
      this.opts.onSample?.(cpuPercent, memoryBytes);
    }, this.opts.sampleIntervalMs ?? sampleIntervalMs);
    this.timers.push(interval);
  }

  /** Waits for the pipes to close; a process that escaped the group may hold them, so give up after a while. */
  private async drain(child: ChildProcess, closed: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, stdioDrainMs)))]);
    clearTimeout(timer);
    child.stdout?.destroy();
    child.stderr?.destroy();
  }

  private finish(startedAtMs: number, finishedAtMs: number, exit: Exit, output: TaskOutput): AttemptResult {
    const signalNumber = exit.signal ? (osConstants.signals[exit.signal] ?? 0) : 0;
    // Shells report death by signal N as 128 + N; doing the same keeps exit_code non-zero.
    const exitCode = exit.code ?? 128 + signalNumber;
    let outcome = exitCode === 0 ? AttemptOutcome.SUCCEEDED : AttemptOutcome.FAILED;
    const testsFailed = output.testCases.some((c) => c.status === TestCaseStatus.FAILED || c.status === TestCaseStatus.ERRORED);
    if (outcome === AttemptOutcome.SUCCEEDED && testsFailed) outcome = AttemptOutcome.FAILED;
    const problems = [...output.problems];
    if (this.stopReason) {
      outcome = this.stopReason === 'timeout' ? AttemptOutcome.TIMED_OUT : AttemptOutcome.CANCELLED;
      problems.unshift(this.describeStop());
    }
    return this.result({
      startedAtMs,
      finishedAtMs,
      outcome,
      exitCode,
      signal: exit.signal ?? '',
      testCases: output.testCases,
      metrics: output.metrics,
      error: problems.join('\n'),
    });
  }

  private describeStop(): string {
    const what = this.stopReason === 'timeout' ? `timed out after ${this.spec.timeoutMs || this.opts.defaultTimeoutMs} ms` : 'cancelled';
    const how = this.killedHard ? 'SIGTERM, then SIGKILL as it did not exit within the grace period' : 'SIGTERM';
    return `${what}; its process group was sent ${how}`;
  }

  private result(init: {
    startedAtMs: number;
    finishedAtMs?: number;
    outcome: AttemptOutcome;
    exitCode?: number;
    signal?: string;
    testCases?: TaskOutput['testCases'];
    metrics?: TaskOutput['metrics'];
    error: string;
  }): AttemptResult {
    return create(AttemptResultSchema, {
      ...init,
      key: this.opts.key,
      startedAtMs: BigInt(init.startedAtMs),
      finishedAtMs: BigInt(init.finishedAtMs ?? this.now()),
      stdoutTail: this.tails.stdout.toString(),
      stderrTail: this.tails.stderr.toString(),
      usage: create(ResourceUsageSchema, {
        cpuPercentMax: this.usage.cpuPercentMax,
        memoryBytesMax: BigInt(Math.round(this.usage.memoryBytesMax)),
      }),
      workerId: this.opts.workerId ?? '',
    });
  }

  private env(dirs: AttemptDirs): NodeJS.ProcessEnv {
    // DTF's own variables come last so that a spec cannot point them elsewhere.
    return {
      ...process.env,
      ...this.spec.env,
      ...this.opts.deviceEnv,
      DTF_OUTPUT_DIR: dirs.outputDir,
      DTF_TASK_ID: this.opts.key.taskId,
      DTF_ATTEMPT: String(this.opts.key.attempt),
    };
  }

  private clearTimers(): void {
    for (const t of this.timers.splice(0)) clearTimeout(t);
  }
}

function commandOf(spec: TaskSpec): { file: string; args: string[] } {
  const hasArgv = spec.argv.length > 0;
  const hasShell = spec.shell !== '';
  if (hasArgv === hasShell) {
    throw new Error(`task spec ${JSON.stringify(spec.name)} must set exactly one of argv and shell; it sets ${hasArgv ? 'both' : 'neither'}`);
  }
  return hasArgv ? { file: spec.argv[0], args: spec.argv.slice(1) } : { file: '/bin/sh', args: ['-c', spec.shell] };
}

function describeSpawnError(err: Error, file: string, cwd: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `${JSON.stringify(file)} in ${cwd}`;
  if (code === 'ENOENT') return `cannot start ${where}: no such program (ENOENT); check argv[0] and PATH on the worker`;
  if (code === 'EACCES') return `cannot start ${where}: permission denied (EACCES); make the program executable`;
  return `cannot start ${where}: ${err.message}`;
}

/**
 * Signals a whole process group. A group that is already gone (ESRCH) is the usual race with
 * a task exiting by itself; EPERM means the id now names someone else's group. Neither is
 * ours to act on, and this runs from timers, where a throw would take the worker down.
 */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // See above.
  }
}
