import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

/** How long a child may take to start and say it is ready. */
export const childReadyTimeoutMs = 60_000;
/** How long a child gets to exit after SIGTERM before SIGKILL. */
export const childStopGraceMs = 5_000;

/**
 * `DTF_BENCH_CPU_PROF=<dir>` profiles every bench child (`node --cpu-prof`),
 * writing one .cpuprofile per process into <dir>: how a bottleneck in a load
 * generator is told from one in what it measures.
 */
function profileArgs(): string[] {
  const dir = process.env.DTF_BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

/** A message between the bench and one of its child processes. */
export interface ChildMessage {
  type: string;
  [key: string]: unknown;
}

/**
 * A bench child process: a TypeScript file under bench/ run through tsx in
 * its own Node process, so the load it generates does not share an event
 * loop (or a CPU's worth of JavaScript) with what it measures.
 */
export class BenchChild {
  private readonly inbox: ChildMessage[] = [];
  private waiters: (() => void)[] = [];
  private exited = false;
  private exitInfo = '';

  private constructor(readonly name: string, readonly child: ChildProcess) {
    child.on('message', (m) => {
      this.inbox.push(m as ChildMessage);
      this.wake();
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      this.exitInfo = signal ? `killed by ${signal}` : `exited with code ${code}`;
      this.wake();
    });
  }

  /** Starts `bench/<file>` with `args` and waits for its `ready` message. */
  static async start(file: string, args: string[], nodeArgs: string[] = []): Promise<{ child: BenchChild; ready: ChildMessage }> {
    const child = fork(path.join(__dirname, file), args, {
      execArgv: ['--import', 'tsx', ...profileArgs(), ...nodeArgs],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const c = new BenchChild(file, child);
    try {
      const ready = await c.next('ready', childReadyTimeoutMs);
      return { child: c, ready };
    } catch (e) {
      await c.stop();
      throw e;
    }
  }

  send(msg: ChildMessage): void {
    this.child.send(msg);
  }

  /** Waits for the next message of `type`; an `error` message or an exit fails it. */
  async next(type: string, timeoutMs: number): Promise<ChildMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => m.type === type || m.type === 'error');
      if (i >= 0) {
        const [m] = this.inbox.splice(i, 1);
        if (m.type === 'error') throw new Error(`bench child ${this.name}: ${String(m.message)}`);
        return m;
      }
      if (this.exited) throw new Error(`bench child ${this.name} ${this.exitInfo} before sending "${type}"`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`bench child ${this.name} sent no "${type}" within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  }

  /** Asks the child to exit (SIGTERM), then kills it after a grace period. */
  async stop(): Promise<void> {
    const gone = new Promise<void>((r) => (this.exited ? r() : this.child.once('exit', () => r())));
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), childStopGraceMs);
    await gone;
    clearTimeout(timer);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** For child entry files: sends a message to the bench, if there is one. */
export function tellParent(msg: ChildMessage): void {
  // Run by hand (no parent to tell), a child prints what it would have said.
  if (process.send) process.send(msg);
  else console.log(JSON.stringify(msg));
}
