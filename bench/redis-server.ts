import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../libs/net/free-port';

/** Time Redis gets to say it accepts connections. */
export const redisStartTimeoutMs = 15_000;
/** apt-get update and install together get this long. */
export const aptTimeoutMs = 600_000;
/** Characters of a failed command's output quoted in the reason. */
const outputTailChars = 400;

/** Where redis-server is, or why the bench cannot have it. */
export type RedisBinary = { ok: true; path: string; installed: boolean } | { ok: false; reason: string };

/**
 * Finds `redis-server`, installing Debian's package when it is missing, so
 * `npm run bench` needs nothing by hand. Without root (or passwordless sudo)
 * or a reachable package mirror the answer is a reason, never a fake Redis.
 */
export function ensureRedisServer(log: (line: string) => void): RedisBinary {
  const found = which('redis-server');
  if (found) return { ok: true, path: found, installed: false };
  const asRoot = process.getuid?.() === 0;
  const sudo = !asRoot && which('sudo') && spawnSync('sudo', ['-n', 'true']).status === 0;
  if (!asRoot && !sudo) return { ok: false, reason: 'redis-server is not installed and installing it needs root or passwordless sudo (apt-get install -y redis-server)' };
  const apt = (args: string[]) => {
    const cmd = sudo ? ['sudo', '-n', 'apt-get', ...args] : ['apt-get', ...args];
    log(`$ ${cmd.join(' ')}`);
    // RUNLEVEL=1 keeps the package's init script from starting a system-wide Redis on 6379.
    return spawnSync(cmd[0], cmd.slice(1), {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', RUNLEVEL: '1' },
      encoding: 'utf8', timeout: aptTimeoutMs, maxBuffer: 64 << 20,
    });
  };
  for (const args of [['update'], ['install', '-y', 'redis-server']]) {
    const r = apt(args);
    if (r.status !== 0) {
      const tail = `${r.stderr ?? ''}${r.error?.message ?? ''}`.trim().slice(-outputTailChars);
      return { ok: false, reason: `apt-get ${args.join(' ')} failed (${r.status ?? r.signal}): ${tail}` };
    }
  }
  const installed = which('redis-server');
  return installed ? { ok: true, path: installed, installed: true } : { ok: false, reason: 'apt-get installed redis-server but it is not on PATH' };
}

/** A private Redis for one scenario: loopback only, no persistence. */
export class RedisServer {
  private constructor(readonly port: number, private readonly proc: ChildProcess, private readonly dir: string, private readonly onExit: () => void) {}

  /** Starts `binary` on a free loopback port with persistence off and waits until it serves. */
  static async start(binary: string): Promise<RedisServer> {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtf-bench-redis-'));
    const proc = spawn(binary, [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--daemonize', 'no', '--dir', dir, '--logfile', '',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    const onExit = () => proc.kill('SIGKILL');
    process.once('exit', onExit);
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within ${redisStartTimeoutMs} ms: ${output.slice(-outputTailChars)}`)), redisStartTimeoutMs);
      const onData = (d: Buffer) => {
        output += d.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with code ${code}: ${output.slice(-outputTailChars)}`));
      });
    }).catch((e) => {
      onExit();
      process.removeListener('exit', onExit);
      fs.rmSync(dir, { recursive: true, force: true });
      throw e;
    });
    proc.stdout!.resume();
    proc.stderr!.resume();
    return new RedisServer(port, proc, dir, onExit);
  }

  async stop(): Promise<void> {
    process.removeListener('exit', this.onExit);
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const gone = new Promise<void>((r) => this.proc.once('exit', () => r()));
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  const p = r.stdout?.trim();
  return r.status === 0 && p ? p : undefined;
}

