import { DeviceKind, SelectorOperator } from '../gen/dtf/common/v1/common_pb';
import { dependencyEdgesMax } from '../scheduling/dependency-graph';
import { selectorsPerTaskMax } from '../scheduling/label-selector';
import { preferencesMax, preferenceWeightMax } from '../scheduling/preferences';
import { retryMultiplierMax } from '../scheduling/retry-bounds';
import { parseSuite, suiteToSubmitRequest } from './parse-suite';
import { SuiteError } from './suite-error';
import schema from './suite-schema.json';

const GiB = 2n ** 30n;
const nowMs = 1_700_000_000_000;

/** The messages (as `file:line:column: path: message`) a suite that must fail produces. */
function errorsOf(text: string): string[] {
  try {
    parseSuite(text, 'suite.yaml', { nowMs });
  } catch (err) {
    expect(err).toBeInstanceOf(SuiteError);
    return (err as SuiteError).message.split('\n');
  }
  throw new Error('expected a SuiteError');
}

/** A one-task suite with these lines under the task (indented for it). */
const oneTask = (...lines: string[]) => `name: s\ntasks:\n  - name: a\n    command: x\n${lines.map((l) => `    ${l}\n`).join('')}`;

describe('requirements in suite files', () => {
  it('reads memory ranges, selectors and preferences', () => {
    const doc = parseSuite(`name: s
defaults:
  requires:
    selectors: ["os=linux"]
    prefer: [{ device: cuda, weight: 2 }]
tasks:
  - name: ranged
    command: x
    requires:
      devices: cuda
      gpu_memory: "40GiB..80GiB"
      selectors: ["os!=windows", "gpu in (a100, h100)", "zone notin (a,b)", "fast-disk", "!spot"]
      prefer:
        - { selector: "zone=a", weight: 5 }
        - { selector: "spot" , weight: -3 }
        - { device: rocm }
  - name: at-most
    command: x
    requires: { gpu_memory: "<=24GiB" }
  - name: bare
    command: x
    requires: { gpu_memory: 16GiB }
`, 'suite.yaml');
    const [ranged, atMost, bare] = doc.tasks.map((t) => t.requirements!);
    expect(ranged).toMatchObject({ anyOf: [DeviceKind.CUDA], deviceMemoryMinBytes: 40n * GiB, deviceMemoryMaxBytes: 80n * GiB });
    expect(ranged.selectors.map((s) => [s.key, s.operator, s.values])).toEqual([
      ['os', SelectorOperator.NOT_EQUALS, ['windows']],
      ['gpu', SelectorOperator.IN, ['a100', 'h100']],
      ['zone', SelectorOperator.NOT_IN, ['a', 'b']],
      ['fast-disk', SelectorOperator.EXISTS, []],
      ['spot', SelectorOperator.DOES_NOT_EXIST, []],
    ]);
    expect(ranged.preferences.map((p) => [p.weight, p.kind.case, p.kind.case === 'label' ? p.kind.value.key : p.kind.value])).toEqual([
      [5, 'label', 'zone'], [-3, 'label', 'spot'], [1, 'device', DeviceKind.ROCM],
    ]);
    expect(atMost).toMatchObject({ deviceMemoryMinBytes: 0n, deviceMemoryMaxBytes: 24n * GiB });
    // Lists in a task replace the defaults' lists; a task without them inherits them.
    expect(atMost.selectors.map((s) => s.key)).toEqual(['os']);
    expect(atMost.preferences).toHaveLength(1);
    expect(bare).toMatchObject({ deviceMemoryMinBytes: 16n * GiB, deviceMemoryMaxBytes: 0n });
  });

  it.each([
    [['requires:', '  selectors: ["os=linux", "gpu in a100"]'],
      'suite.yaml:6:31: tasks[0].requires.selectors[1]: "gpu in a100" is not a selector: expected "key in (v1, v2)"'],
    [['requires:', '  selectors:', '    - os=linux', '    - gpu in ()'],
      'suite.yaml:8:11: tasks[0].requires.selectors[1]: "gpu in ()" is not a selector: "in" needs at least one value, e.g. "gpu in (a, b)"'],
    [['requires: { selectors: "os=linux" }'], 'suite.yaml:5:28: tasks[0].requires.selectors: must be a list, not string "os=linux"'],
    [['requires: { gpu_memory: "80GiB..40GiB" }'], 'suite.yaml:5:29: tasks[0].requires.gpu_memory: "80GiB..40GiB" is an empty range: the minimum is above the maximum; write the smaller size first'],
    [['requires: { gpu_memory: "<40GiB" }'],
      'suite.yaml:5:29: tasks[0].requires.gpu_memory: "<40GiB" is not a size; use e.g. "40GiB" or ">=40GiB" (at least), "<=80GiB" (at most) or "40GiB..80GiB" (B, KiB, MiB, GiB, TiB, or KB, MB, GB, TB)'],
    [['requires:', '  prefer:', '    - { weight: 3 }'], 'suite.yaml:7:11: tasks[0].requires.prefer[0]: give exactly one of "selector" or "device"'],
    [['requires:', '  prefer:', '    - { selector: "a=b", device: cuda }'], 'suite.yaml:7:11: tasks[0].requires.prefer[0]: give exactly one of "selector" or "device"'],
    [['requires:', '  prefer:', '    - { device: tpu }'], 'suite.yaml:7:21: tasks[0].requires.prefer[0].device: "tpu" is not a device kind; use one of cpu, cuda, rocm, mps, qnn, webgpu, webnn'],
    [['requires:', '  prefer:', '    - { selector: "a=b", weight: 5000 }'], 'suite.yaml:7:38: tasks[0].requires.prefer[0].weight: must be at most 1000, not number 5000'],
    [['requires:', '  prefer:', '    - { selector: "a=b", wieght: 2 }'], 'suite.yaml:7:30: tasks[0].requires.prefer[0].wieght: unknown field "wieght"; valid fields here: selector, device, weight'],
  ])('explains %j', (lines, message) => {
    expect(errorsOf(oneTask(...lines))).toEqual([message]);
  });

  it('says to quote a "!key" selector that YAML reads as a tag', () => {
    expect(errorsOf(oneTask('requires:', '  selectors:', '    - !spot'))).toEqual(['suite.yaml:7:11: !spot is read as a YAML tag, not as text; quote it: "!spot"']);
  });

  it('keeps the schema bounds in step with the scheduler', () => {
    const d = schema.definitions;
    expect(d.requires.properties.selectors.maxItems).toBe(selectorsPerTaskMax);
    expect(d.requires.properties.prefer.maxItems).toBe(preferencesMax);
    expect(d.preference.properties.weight.maximum).toBe(preferenceWeightMax);
    expect(d.preference.properties.weight.minimum).toBe(-preferenceWeightMax);
    expect(d.retry.properties.multiplier.maximum).toBe(retryMultiplierMax);
  });
});

describe('time fields and tenant in suite files', () => {
  it('reads deadline, retry and expected duration, merging retry key by key', () => {
    const doc = parseSuite(`name: s
tenant: team-a
defaults:
  deadline: 30m
  retry: { on_test_failure: true, initial: 2s }
tasks:
  - name: a
    command: x
    retry: { multiplier: 3, max: 5m }
    expected_duration: 2m
  - name: b
    command: x
    deadline: 1h
`, 'suite.yaml', { nowMs });
    const [a, b] = doc.tasks;
    expect(doc.tenant).toBe('team-a');
    expect(a.deadlineMs).toBe(BigInt(nowMs + 30 * 60_000));
    expect(a.retry).toMatchObject({ onTestFailure: true, initialBackoffMs: 2000, multiplier: 3, maxBackoffMs: 300_000 });
    expect(a.expectedDurationMs).toBe(120_000);
    expect(b.deadlineMs).toBe(BigInt(nowMs + 3_600_000));
    expect(b.retry).toMatchObject({ onTestFailure: true, initialBackoffMs: 2000, multiplier: 0, maxBackoffMs: 0 });
    expect(b.expectedDurationMs).toBe(0);
    expect(suiteToSubmitRequest(doc).tenant).toBe('team-a');
    expect(suiteToSubmitRequest(doc, { tenant: 'team-b' }).tenant).toBe('team-b');
    expect(suiteToSubmitRequest(doc, { tenant: '' }).tenant).toBe('team-a');
  });

  it('leaves the time fields empty when the suite has none, and needs no clock then', () => {
    const [t] = parseSuite(oneTask(), 'suite.yaml').tasks;
    expect(t).toMatchObject({ deadlineMs: 0n, expectedDurationMs: 0, dependsOn: [] });
    expect(t.retry).toBeUndefined();
    expect(parseSuite(oneTask(), 'suite.yaml').tenant).toBe('');
  });

  it('refuses to guess the time a deadline counts from', () => {
    expect(() => parseSuite(oneTask('deadline: 5m'), 'suite.yaml')).toThrow('needs opts.nowMs');
  });

  it.each([
    [['deadline: 0s'], 'suite.yaml:5:15: tasks[0].deadline: "0s" is no time at all; give the time the task has after submission, e.g. "30m", or leave deadline out'],
    [['deadline: 9000h'], 'suite.yaml:5:15: tasks[0].deadline: "9000h" is more than a year away; the furthest deadline is 8760h'],
    [['deadline: soon'], 'suite.yaml:5:15: tasks[0].deadline: "soon" is not a duration; use e.g. "30s", "10m", "1h30m" or a number of seconds'],
    [['expected_duration: 2000h'], 'suite.yaml:5:24: tasks[0].expected_duration: "2000h" is too long; the longest is 4294967295 ms (about 49 days)'],
    [['retry: { initial: 2m }'], 'suite.yaml:5:23: tasks[0].retry.initial: the first backoff ("2m") is longer than the longest (the default 60s); make retry.initial at most retry.max'],
    [['retry: { max: 500ms }'], 'suite.yaml:5:19: tasks[0].retry.max: the first backoff (the default 1s) is longer than the longest ("500ms"); make retry.initial at most retry.max'],
    [['retry: { max: 2h }'], 'suite.yaml:5:19: tasks[0].retry.max: "2h" is longer than the longest backoff, 60m'],
    [['retry: { initial: 0s }'], 'suite.yaml:5:23: tasks[0].retry.initial: "0s" is no time at all; leave it out for the default (1s)'],
    [['retry: { multiplier: 0.5 }'], 'suite.yaml:5:26: tasks[0].retry.multiplier: must be at least 1, not number 0.5'],
    [['retry: { multiplier: 100 }'], 'suite.yaml:5:26: tasks[0].retry.multiplier: must be at most 10, not number 100'],
    [['retry: { on_test_failure: yes please }'], 'suite.yaml:5:31: tasks[0].retry.on_test_failure: must be true or false, not string "yes please"'],
  ])('explains %j', (lines, message) => {
    expect(errorsOf(oneTask(...lines))).toEqual([message]);
  });

  it('reports a bad default once, at the default', () => {
    expect(errorsOf('name: s\ndefaults:\n  deadline: 0s\ntasks:\n  - { name: a, command: x }\n  - { name: b, command: x }\n')).toEqual([
      'suite.yaml:3:13: defaults.deadline: "0s" is no time at all; give the time the task has after submission, e.g. "30m", or leave deadline out',
    ]);
  });

  it('checks the tenant name', () => {
    expect(errorsOf('name: s\ntenant: team a\ntasks:\n  - { name: a, command: x }\n')).toEqual([
      'suite.yaml:2:9: tenant: "team a" is not a tenant name: use letters, digits and - _ . , starting and ending with a letter or digit (e.g. "team-a")',
    ]);
  });
});

describe('depends_on in suite files', () => {
  const deps = (text: string) => Object.fromEntries(parseSuite(text, 'suite.yaml').tasks.map((t) => [t.name, t.dependsOn]));

  it("links plain names, and a matrix task's name as written to every instance", () => {
    expect(deps(`name: s
tasks:
  - { name: setup, command: x }
  - name: build-{os}
    command: x
    depends_on: [setup]
    matrix: { os: [linux, mac] }
  - name: test-{os}-{shard}
    command: x
    depends_on: ["build-{os}"]
    matrix: { os: [linux, mac], shard: [1, 2] }
  - name: report
    command: x
    depends_on:
      - build-{os}                # a block list needs no quotes
      - test-{os}-{shard}
      - setup
  - name: lint-{os}
    command: x
    depends_on: ["build-{{os}}"]
    matrix: { os: [linux] }
`)).toEqual({
      'setup': [],
      'build-linux': ['setup'], 'build-mac': ['setup'],
      'test-linux-1': ['build-linux'], 'test-linux-2': ['build-linux'], 'test-mac-1': ['build-mac'], 'test-mac-2': ['build-mac'],
      'report': ['build-linux', 'build-mac', 'test-linux-1', 'test-linux-2', 'test-mac-1', 'test-mac-2', 'setup'],
      'lint-linux': ['build-linux', 'build-mac'],
    });
  });

  it('takes depends_on from defaults unless the task sets its own', () => {
    expect(deps(`name: s
defaults: { depends_on: [setup] }
tasks:
  - { name: setup, command: x, depends_on: [] }
  - { name: a, command: x }
`)).toEqual({ setup: [], a: ['setup'] });
  });

  it.each([
    ['a name that matches nothing',
      'tasks:\n  - { name: a, command: x, depends_on: [bulid] }\n  - { name: build, command: x }\n',
      ['suite.yaml:3:41: tasks[0].depends_on[0]: no task is named "bulid"; write a task\'s name as expanded ("build-linux"), or as written in the file ("build-{os}") to wait for every task it expands to']],
    ['a filled name that matches nothing',
      'tasks:\n  - name: t-{os}\n    command: x\n    depends_on: ["b-{os}"]\n    matrix: { os: [linux, mac] }\n  - { name: b-linux, command: x }\n',
      ['suite.yaml:5:18: tasks[0].depends_on[0]: no task is named "b-mac" ("b-{os}" with this task\'s matrix values filled in); write a task\'s name as expanded ("build-linux"), or as written in the file ("build-{os}") to wait for every task it expands to']],
    ['itself',
      'tasks:\n  - { name: a, command: x, depends_on: [a] }\n',
      ['suite.yaml:3:41: tasks[0].depends_on[0]: "a" includes this task itself (a); a task cannot wait for itself']],
    ['itself through a default',
      'defaults: { depends_on: [a] }\ntasks:\n  - { name: a, command: x }\n',
      ['suite.yaml:2:26: defaults.depends_on[0]: "a" includes this task itself (a); a task cannot wait for itself']],
    ['a cycle',
      'tasks:\n  - { name: a, command: x, depends_on: [b] }\n  - { name: b, command: x, depends_on: [c] }\n  - { name: c, command: x, depends_on: [a] }\n',
      ['suite.yaml:3:40: tasks[0].depends_on: dependency cycle a → b → c → a; no task in it could ever start']],
  ])('explains %s', (_name, body, messages) => {
    expect(errorsOf(`name: s\n${body}`)).toEqual(messages);
  });

  it('hints at quoting a placeholder name in a flow list', () => {
    const [message] = errorsOf('name: s\ntasks:\n  - { name: "b-{os}", command: x, matrix: { os: [a] } }\n  - { name: r, command: x, depends_on: [b-{os}] }\n');
    expect(message).toMatch(/^suite\.yaml:4:\d+: .*; fix the YAML syntax here \(inside \[ \], quote names with \{placeholders\}: \["build-\{os\}"\]\)$/);
  });

  it('bounds the dependencies a suite expands to', () => {
    const n = Math.ceil(Math.sqrt(dependencyEdgesMax)) + 1;
    const values = Array.from({ length: n }, (_, i) => i).join(', ');
    const errors = errorsOf(`name: s
tasks:
  - { name: "a-{i}", command: x, matrix: { i: [${values}] } }
  - { name: "b-{i}", command: x, matrix: { i: [${values}] }, depends_on: ["a-{{i}}"] }
`);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^suite.yaml:4:\\d+: tasks\\[1\\].depends_on: the tasks so far depend on \\d+ tasks in all; a suite may have at most ${dependencyEdgesMax} dependencies`));
  });
});
