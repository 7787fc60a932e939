import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeviceKind } from '../gen/dtf/common/v1/common_pb';
import { SubmitJobRequestSchema } from '../gen/dtf/scheduler/v1/scheduler_service_pb';
import { parseSuite, suiteToSubmitRequest, taskCountMax } from './parse-suite';
import { SuiteError, type SuiteIssue } from './suite-error';

/** Parses text that must fail and returns its issues. */
function issuesOf(text: string): SuiteIssue[] {
  try {
    parseSuite(text, 'suite.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(SuiteError);
    return (err as SuiteError).issues;
  }
  throw new Error('expected a SuiteError');
}

const full = `name: resnet-bench
labels: { branch: main }
defaults:
  timeout: 10m
  retries: 1
  env: { PYTHONUNBUFFERED: "1" }
  requires: { cpu: 1, labels: { os: linux } }
tasks:
  - name: unit-{shard}
    command: "npm test -- --shard={shard}/4"
    matrix: { shard: [1, 2, 3, 4] }
    workdir: ./sub
  - name: bench-{model}-b{batch}
    command: [python, bench.py, --model, "{model}", --batch, "{batch}"]
    timeout: 30s
    retries: 2
    priority: 5
    env: { MODEL: "{model}" }
    requires:
      devices: [cuda, rocm]
      all_of: [cpu]
      device_count: 2
      gpu_memory: ">=40GiB"
      cpu: 4
      memory: 8GiB
      labels: { pool: gpu-lab }
    tags: { kind: bench }
    matrix:
      model: [resnet50, bert]
      batch: [1, 8]
      exclude: [{ model: bert, batch: 8 }]
      include: [{ model: gpt2, batch: 1 }]
`;

describe('parseSuite', () => {
  it('parses the documented example, with defaults, matrix exclude and include', () => {
    const doc = parseSuite(full, '/repo/suites/suite.yaml');
    expect(doc.name).toBe('resnet-bench');
    expect(doc.suiteDir).toBe('/repo/suites');
    expect(doc.labels).toEqual({ branch: 'main' });
    expect(doc.tasks.map((t) => t.name)).toEqual([
      'unit-1', 'unit-2', 'unit-3', 'unit-4',
      'bench-resnet50-b1', 'bench-resnet50-b8', 'bench-bert-b1', 'bench-gpt2-b1',
    ]);
    const unit = doc.tasks[1];
    expect(unit).toMatchObject({
      shell: 'npm test -- --shard=2/4', argv: [], workingDir: './sub', timeoutMs: 600_000, retries: 1,
      env: { PYTHONUNBUFFERED: '1' }, tags: { shard: '2' },
    });
    expect(unit.requirements).toMatchObject({ cpuCores: 1, labels: { os: 'linux' }, anyOf: [] });
    const bench = doc.tasks[7];
    expect(bench).toMatchObject({
      shell: '', argv: ['python', 'bench.py', '--model', 'gpt2', '--batch', '1'], timeoutMs: 30_000, retries: 2,
      priority: 5, env: { PYTHONUNBUFFERED: '1', MODEL: 'gpt2' }, tags: { kind: 'bench', model: 'gpt2', batch: '1' },
    });
    expect(bench.requirements).toMatchObject({
      anyOf: [DeviceKind.CUDA, DeviceKind.ROCM], allOf: [DeviceKind.CPU], deviceCount: 2,
      deviceMemoryMinBytes: 40n * 2n ** 30n, cpuCores: 4, memoryBytes: 8n * 2n ** 30n,
      labels: { os: 'linux', pool: 'gpu-lab' },
    });
  });

  it('applies a suite-level matrix to every task, an include ranging over unnamed axes', () => {
    const doc = parseSuite(`name: s
matrix:
  model: [resnet50, bert]
  batch: [1, 8]
  exclude: [{ model: bert, batch: 8 }]
  include: [{ model: gpt2, batch: 1 }]
tasks:
  - name: "{model}-{batch}-s{shard}"
    command: run {model} {batch} {shard}
    matrix: { shard: [1, 2] }
`, 'suite.yaml');
    expect(doc.tasks).toHaveLength(8); // (2×2 − 1 + 1) × 2 shards
    expect(doc.tasks.map((t) => t.name)).toContain('gpt2-1-s2');
    expect(doc.tasks.map((t) => t.name)).not.toContain('bert-8-s1');
  });

  it('fills {suite_dir} and leaves shell ${VAR} and {{ }} alone', () => {
    const doc = parseSuite(`name: s
tasks:
  - name: t
    command: "node {suite_dir}/x.js \${HOME} {{literal}} awk '{print $1}'"
`, 'dir/suite.yaml');
    expect(doc.tasks[0].shell).toBe(`node ${process.cwd()}/dir/x.js \${HOME} {literal} awk '{print $1}'`);
  });

  it("parses the README's format example", () => {
    const readme = readFileSync(join(__dirname, 'README.md'), 'utf8');
    const example = /## Format\n\n```yaml\n([\s\S]*?)```/.exec(readme)![1];
    const doc = parseSuite(example, 'suite.yaml', { nowMs: 0 });
    expect(doc.tasks.map((t) => t.name)).toEqual([
      'build-linux', 'build-mac', 'report', 'unit-1', 'unit-2', 'unit-3', 'unit-4',
      'bench-resnet50-b1', 'bench-resnet50-b8', 'bench-bert-b1', 'bench-gpt2-b1',
    ]);
    expect(doc.tasks[2]).toMatchObject({ dependsOn: ['build-linux', 'build-mac'], deadlineMs: 1_800_000n, expectedDurationMs: 120_000 });
    expect(doc.tasks[7].requirements?.selectors).toHaveLength(5);
  });

  it('builds a submit request that survives the wire', () => {
    const request = suiteToSubmitRequest(parseSuite(full, 'suite.yaml'), { idempotencyKey: 'ci-42' });
    const back = fromBinary(SubmitJobRequestSchema, toBinary(SubmitJobRequestSchema, request));
    expect(back.name).toBe('resnet-bench');
    expect(back.idempotencyKey).toBe('ci-42');
    expect(back.tasks).toHaveLength(8);
    expect(back.labels).toEqual({ branch: 'main' });
  });
});

describe('parseSuite errors', () => {
  it('reports YAML syntax errors with line and column', () => {
    const err = issuesOf('name: s\ntasks:\n  - name: [unclosed\n');
    expect(err[0]).toMatchObject({ file: 'suite.yaml', line: expect.any(Number), column: expect.any(Number) });
    expect(err[0].line).toBeGreaterThanOrEqual(3);
  });

  it('names file, line and field for a missing command', () => {
    const [issue] = issuesOf('name: s\ntasks:\n  - name: a\n    command: x\n  - name: b\n    timeout: 5s\n');
    expect(issue).toMatchObject({ line: 5, column: 5, path: 'tasks[1]' });
    expect(issue.message).toMatch(/missing required field "command"/);
  });

  it('names a field of the wrong type', () => {
    const [issue] = issuesOf('name: s\ntasks:\n  - name: a\n    command: x\n    retries: lots\n');
    expect(issue).toMatchObject({ line: 5, column: 14, path: 'tasks[0].retries' });
    expect(issue.message).toMatch(/must be an integer, not string "lots"/);
  });

  it('explains a bad size and how to write one, in the documented message shape', () => {
    const text = 'name: s\ntasks:\n  - name: a\n    command: x\n    requires:\n      gpu_memory: 40G\n';
    const [issue] = issuesOf(text);
    expect(issue).toMatchObject({ line: 6, column: 19, path: 'tasks[0].requires.gpu_memory' });
    expect(() => parseSuite(text, 'suite.yaml')).toThrow(
      'suite.yaml:6:19: tasks[0].requires.gpu_memory: "40G" is not a size; use e.g. "40GiB"',
    );
  });

  it('lists the valid device kinds for an unknown one', () => {
    const [issue] = issuesOf('name: s\ntasks:\n  - name: a\n    command: x\n    requires: { devices: [cuda, tpu] }\n');
    expect(issue.path).toBe('tasks[0].requires.devices[1]');
    expect(issue.line).toBe(5);
    expect(issue.message).toBe('"tpu" is not a device kind; use one of cpu, cuda, rocm, mps, qnn, webgpu, webnn');
  });

  it('names the field with an unknown placeholder, once for all combinations', () => {
    const issues = issuesOf('name: s\ntasks:\n  - name: a-{shard}\n    command: run {shrad}\n    matrix: { shard: [1, 2] }\n');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ line: 4, path: 'tasks[0].command' });
    expect(issues[0].message).toMatch(/unknown placeholder \{shrad\}; known here: shard, suite_dir/);
  });

  it('names both tasks of a duplicate name', () => {
    const issues = issuesOf('name: s\ntasks:\n  - name: a\n    command: x\n  - name: b-{n}\n    command: y\n    matrix: { n: [1, 2] }\n  - name: a\n    command: z\n');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ line: 8, path: 'tasks[2].name' });
    expect(issues[0].message).toMatch(/"a" is also the name of a task from tasks\[0\] \(line 3\)/);
  });

  it('refuses a matrix past the task bound before expanding it', () => {
    const values = Array.from({ length: 101 }, (_, i) => i).join(', ');
    const issues = issuesOf(`name: s\ntasks:\n  - name: t-{a}-{b}\n    command: x\n    matrix: { a: [${values}], b: [${values}] }\n`);
    expect(issues[0]).toMatchObject({ line: 3, path: 'tasks[0]' });
    expect(issues[0].message).toContain(`at most ${taskCountMax}`);
  });

  it('points at an unknown top-level key and lists the valid ones', () => {
    const [issue] = issuesOf('name: s\ntasks:\n  - name: a\n    command: x\ntimeoutz: 5\n');
    expect(issue).toMatchObject({ line: 5, column: 1, path: 'timeoutz' });
    expect(issue.message).toBe('unknown field "timeoutz"; valid fields here: name, tenant, labels, defaults, matrix, tasks');
  });

  it('reports every issue of a file at once, in file order', () => {
    const err = (() => {
      try {
        parseSuite('name: s\ntasks:\n  - name: a\n    timeout: forever\n  - command: y\n    requires: { memory: 2 gigs }\n', 's.yaml');
      } catch (e) {
        return e as SuiteError;
      }
      throw new Error('expected a SuiteError');
    })();
    expect(err.message.split('\n')).toEqual([
      's.yaml:3:5: tasks[0]: missing required field "command"; every task needs a command: a string run through sh -c, or a list of program and arguments',
      's.yaml:4:14: tasks[0].timeout: "forever" is not a duration; use e.g. "30s", "10m", "1h30m" or a number of seconds',
      's.yaml:5:5: tasks[1]: missing required field "name"; give it a name; it identifies the job or task in results',
      's.yaml:6:25: tasks[1].requires.memory: "2 gigs" is not a size; use e.g. "40GiB" (B, KiB, MiB, GiB, TiB, or KB, MB, GB, TB)',
    ]);
  });
});
