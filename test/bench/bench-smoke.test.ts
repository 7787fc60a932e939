import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

jest.setTimeout(400_000);

const root = path.resolve(__dirname, '../..');

/**
 * `npm run bench -- --smoke` inside the test suite: every scenario runs at a
 * tiny size and reports ok, skipped (with its reason) or TODO, never failed.
 * Nothing here judges a figure; figures belong to `npm run bench`.
 */
describe('the benchmark harness', () => {
  it('runs every scenario at smoke size and writes a report', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dtf-bench-smoke-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke'], {
      cwd: root,
      env: { ...process.env, DTF_BENCH_RESULTS_DIR: out },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect({ code, log: code === 0 ? '' : log }).toEqual({ code: 0, log: '' });
    const [file] = fs.readdirSync(out);
    const run = JSON.parse(fs.readFileSync(path.join(out, file), 'utf8'));
    expect(run.smoke).toBe(true);
    for (const s of run.scenarios) {
      expect({ name: s.name, status: s.status }).toEqual({ name: s.name, status: expect.stringMatching(/^(ok|skipped|todo)$/) });
      if (s.status !== 'ok') continue;
      for (const f of s.figures) {
        expect(f.ratio.samples.length).toBeGreaterThanOrEqual(3);
        for (const r of f.ratio.samples) expect({ figure: f.name, finite: Number.isFinite(r) }).toEqual({ figure: f.name, finite: true });
        expect(f.ratio.min).toBeLessThanOrEqual(f.ratio.median);
        expect(f.ratio.median).toBeLessThanOrEqual(f.ratio.max);
      }
    }
    fs.rmSync(out, { recursive: true, force: true });
  });
});
