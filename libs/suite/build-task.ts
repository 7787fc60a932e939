import { create } from '@bufbuild/protobuf';
import {
  PreferenceSchema, RequirementsSchema, TaskSpecSchema, type DeviceKind, type Preference, type Requirements, type TaskSpec,
} from '../gen/dtf/common/v1/common_pb';
import { parseSelector } from '../scheduling/label-selector';
import { deviceKindByName } from './device-kinds';
import type { MatrixValues } from './matrix';
import { fillPlaceholders } from './placeholders';
import type { SuiteIssue } from './suite-error';
import type { TimingFields } from './timing-fields';
import { parseDuration, parseSize, parseSizeRange } from './units';
import type { YamlLocator } from './yaml-locator';

/** `timeout_ms` is a uint32: about 49 days is the longest timeout a task can carry. */
export const timeoutMsMax = 2 ** 32 - 1;

/** A task or `defaults:` block as the schema admits it. */
export interface RawTaskFields {
  name?: string;
  command?: string | unknown[];
  env?: Record<string, unknown>;
  workdir?: string;
  timeout?: string | number;
  retries?: number;
  depends_on?: string[];
  deadline?: string | number;
  retry?: RawRetry;
  expected_duration?: string | number;
  priority?: number;
  requires?: RawRequires;
  tags?: Record<string, unknown>;
  matrix?: unknown;
}

/** A `retry:` block as the schema admits it. */
export interface RawRetry {
  on_test_failure?: boolean;
  initial?: string | number;
  multiplier?: number;
  max?: string | number;
}

/** One `prefer:` entry as the schema admits it: exactly one of selector and device. */
export interface RawPreference {
  selector?: string;
  device?: string;
  weight?: number;
}

/** A `requires:` block as the schema admits it. */
export interface RawRequires {
  devices?: string | string[];
  all_of?: string[];
  device_count?: number;
  gpu_memory?: string | number;
  cpu?: number;
  memory?: string | number;
  labels?: Record<string, unknown>;
  selectors?: string[];
  prefer?: RawPreference[];
}

/**
 * Task fields over defaults; env, tags, requirement labels and the retry
 * block merge key by key (the task wins); lists (depends_on, devices,
 * selectors, prefer) are replaced whole.
 */
export function mergeDefaults(defaults: RawTaskFields, task: RawTaskFields): RawTaskFields {
  const dr = defaults.requires ?? {};
  const tr = task.requires ?? {};
  const retry = defaults.retry || task.retry ? { ...defaults.retry, ...task.retry } : undefined;
  return {
    ...defaults,
    ...task,
    env: { ...defaults.env, ...task.env },
    tags: { ...defaults.tags, ...task.tags },
    requires: { ...dr, ...tr, labels: { ...dr.labels, ...tr.labels } },
    retry,
  };
}

/**
 * Builds the requirements once per source task; they hold no placeholders.
 * The schema has checked every value, so the parsers here cannot fail.
 */
export function buildRequirements(r: RawRequires): Requirements {
  const kinds = (names: string | string[] | undefined): DeviceKind[] =>
    (names === undefined ? [] : Array.isArray(names) ? names : [names]).map((n) => deviceKindByName(n) as DeviceKind);
  const gpuMemory = r.gpu_memory === undefined ? undefined : parseSizeRange(r.gpu_memory);
  return create(RequirementsSchema, {
    anyOf: kinds(r.devices),
    allOf: kinds(r.all_of),
    deviceCount: r.device_count ?? 0,
    deviceMemoryMinBytes: gpuMemory?.min ?? 0n,
    deviceMemoryMaxBytes: gpuMemory?.max ?? 0n,
    cpuCores: r.cpu ?? 0,
    memoryBytes: r.memory === undefined ? 0n : parseSize(r.memory) ?? 0n,
    labels: stringMap(r.labels),
    selectors: (r.selectors ?? []).map(parseSelector),
    preferences: (r.prefer ?? []).map(buildPreference),
  });
}

function buildPreference(p: RawPreference): Preference {
  const weight = p.weight ?? 1;
  if (p.selector !== undefined) return create(PreferenceSchema, { weight, kind: { case: 'label', value: parseSelector(p.selector) } });
  return create(PreferenceSchema, { weight, kind: { case: 'device', value: deviceKindByName(p.device ?? '') as DeviceKind } });
}

/**
 * Expands one source task for one matrix combination into a TaskSpec.
 * Unknown placeholders and out-of-range values become issues that point at
 * the source task's field, once per field however many combinations share it.
 */
export class TaskBuilder {
  private readonly reported = new Set<string>();

  constructor(
    private readonly locator: YamlLocator,
    private readonly issues: SuiteIssue[],
    private readonly builtins: Readonly<Record<string, string>>,
  ) {}

  /**
   * `index` is the task's position under `tasks:`, for error locations;
   * `requirements` and `timing` are built once per source task. `depends_on`
   * is left empty: it is resolved once every task is expanded.
   */
  build(index: number, task: RawTaskFields, requirements: Requirements, timing: TimingFields, combo: MatrixValues): TaskSpec {
    const values = { ...this.builtins, ...combo };
    const fill = (field: (string | number)[], text: string) => this.fill(index, field, text, values);
    const command = task.command ?? '';
    const env = Object.fromEntries(
      Object.entries(stringMap(task.env)).map(([k, v]) => [k, fill(['env', k], v)]),
    );
    return create(TaskSpecSchema, {
      name: fill(['name'], task.name ?? ''),
      shell: typeof command === 'string' ? fill(['command'], command) : '',
      argv: Array.isArray(command) ? command.map((arg, i) => fill(['command', i], String(arg))) : [],
      env,
      workingDir: task.workdir === undefined ? '' : fill(['workdir'], task.workdir),
      timeoutMs: this.timeoutMs(index, task.timeout),
      retries: task.retries ?? 0,
      requirements,
      priority: task.priority ?? 0,
      tags: { ...stringMap(task.tags), ...combo },
      ...timing,
    });
  }

  private fill(index: number, field: (string | number)[], text: string, values: Record<string, string>): string {
    const filled = fillPlaceholders(text, values);
    for (const name of filled.unknown) {
      const key = `${index}/${field.join('/')}/${name}`;
      if (this.reported.has(key)) continue;
      this.reported.add(key);
      const known = Object.keys(values).sort().join(', ');
      this.issues.push(this.locator.issue(['tasks', index, ...field],
        `unknown placeholder {${name}}; known here: ${known} (write {{ and }} for literal braces)`));
    }
    return filled.text;
  }

  private timeoutMs(index: number, timeout: string | number | undefined): number {
    if (timeout === undefined) return 0;
    const ms = parseDuration(timeout) ?? 0;
    if (ms <= timeoutMsMax) return ms;
    const key = `${index}/timeout`;
    if (!this.reported.has(key)) {
      this.reported.add(key);
      this.issues.push(this.locator.issue(['tasks', index, 'timeout'], `${JSON.stringify(timeout)} is too long; the longest timeout is ${timeoutMsMax} ms (about 49 days)`));
    }
    return 0;
  }
}

function stringMap(raw: Record<string, unknown> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(raw ?? {}).map(([k, v]) => [k, String(v)]));
}
