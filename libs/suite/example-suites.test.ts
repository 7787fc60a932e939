import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { XMLParser } from 'fast-xml-parser';
import { DeviceKind } from '../gen/dtf/common/v1/common_pb';
import { loadSuite } from './load-suite';

const run = promisify(execFile);
const examples = resolve(__dirname, '../../examples');

/** Runs an expanded task's argv the way a worker would, with its own output dir. */
async function runTask(argv: string[], outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await run(argv[0], argv.slice(1), { env: { ...process.env, DTF_OUTPUT_DIR: outDir }, cwd: outDir, timeout: 10_000 });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dtf-examples-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('examples/unit-tests', () => {
  it('expands to 4 shards whose scripts write passing JUnit XML covering every test once', async () => {
    const doc = await loadSuite(join(examples, 'unit-tests/suite.yaml'));
    expect(doc.tasks.map((t) => t.name)).toEqual(['unit-shard-1', 'unit-shard-2', 'unit-shard-3', 'unit-shard-4']);
    expect(doc.tasks[0].argv).toEqual(['node', join(examples, 'unit-tests/run-shard.js'), '1', '4']);
    const names: string[] = [];
    await Promise.all(doc.tasks.map(async (task, i) => {
      const out = join(dir, `unit-${i}`);
      await runTask(task.argv, out);
      const xml = new XMLParser({ ignoreAttributes: false, isArray: (name) => name === 'testcase' })
        .parse(await readFile(join(out, 'junit.xml'), 'utf8'));
      const suite = xml.testsuites.testsuite;
      expect(suite['@_failures']).toBe('0');
      for (const tc of suite.testcase) names.push(`${tc['@_classname']}/${tc['@_name']}`);
    }));
    expect(names.length).toBeGreaterThanOrEqual(8);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('examples/cpu-bench', () => {
  it('expands to algorithm × size and each task writes metrics.json', async () => {
    const doc = await loadSuite(join(examples, 'cpu-bench/suite.yaml'));
    expect(doc.tasks.map((t) => t.name)).toEqual([
      'bench-sort-10000', 'bench-sort-100000', 'bench-hash-10000', 'bench-hash-100000',
    ]);
    expect(doc.tasks[3].tags).toMatchObject({ algorithm: 'hash', size: '100000' });
    await Promise.all(doc.tasks.map(async (task, i) => {
      const out = join(dir, `bench-${i}`);
      await runTask(task.argv, out);
      const { metrics } = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
      const byName = Object.fromEntries(metrics.map((m: { name: string; value: number; unit: string }) => [m.name, m]));
      expect(byName.ops_per_sec).toMatchObject({ unit: 'ops/s', value: expect.any(Number) });
      expect(byName.ops_per_sec.value).toBeGreaterThan(0);
      expect(byName.median_ms).toMatchObject({ unit: 'ms', value: expect.any(Number) });
    }));
  });
});

describe('examples/cuda-bench', () => {
  it('expands to the driver check plus dtype × size, every task needing a CUDA device', async () => {
    const doc = await loadSuite(join(examples, 'cuda-bench/suite.yaml'));
    expect(doc.tasks.map((t) => t.name)).toEqual([
      'nvidia-smi', 'matmul-bf16-4096', 'matmul-bf16-8192', 'matmul-fp32-4096', 'matmul-fp32-8192',
    ]);
    expect(doc.tasks[0].argv).toEqual(['nvidia-smi', '--query-gpu=name,memory.total,driver_version', '--format=csv']);
    expect(doc.tasks[1].argv).toEqual(['python3', join(examples, 'cuda-bench/matmul.py'), 'bf16', '4096']);
    for (const task of doc.tasks) expect(task.requirements?.anyOf).toEqual([DeviceKind.CUDA]);
  });

  it('matmul.py refuses bad arguments with a usage line before it needs PyTorch or a GPU', async () => {
    const err = await run('python3', [join(examples, 'cuda-bench/matmul.py'), 'fp8', '10'], { timeout: 10_000 })
      .then(() => undefined, (e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2, stderr: expect.stringMatching(/usage: matmul\.py <bf16\|fp32> <n>/) });
  });
});
