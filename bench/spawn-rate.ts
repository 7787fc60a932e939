import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/**
 * The floor under any task runner: spawns `argv` `count` times from Node,
 * `concurrency` at a time, and returns processes per second.
 */
export async function spawnRate(argv: string[], count: number, concurrency: number): Promise<number> {
  let next = 0;
  const lane = async () => {
    while (next < count) {
      next++;
      await new Promise<void>((resolve, reject) => {
        const p = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
        p.once('error', reject);
        p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')} exited with code ${code}`))));
      });
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, lane));
  return (count / (performance.now() - t0)) * 1000;
}
