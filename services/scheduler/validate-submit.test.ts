import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { ConnectError, Code } from '@connectrpc/connect';
import { DeviceKind, SelectorOperator, TaskSpecSchema } from '../../libs/gen/dtf/common/v1/common_pb';
import { SubmitJobRequestSchema } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { dependencyEdgesMax } from '../../libs/scheduling/dependency-graph';
import { validateSubmit } from './validate-submit';

type TaskInit = MessageInitShape<typeof TaskSpecSchema>;
const GiB = 1024n ** 3n;

/** The problems validateSubmit reports for a job of these tasks, or [] when it accepts it. */
function problems(tasks: TaskInit[], job: { tenant?: string } = {}): string[] {
  const req = create(SubmitJobRequestSchema, { name: 'j', tenant: job.tenant, tasks: tasks.map((t) => ({ shell: 'true', ...t })) });
  try {
    validateSubmit(req);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(ConnectError);
    expect((e as ConnectError).code).toBe(Code.InvalidArgument);
    // Problems are joined with "; "; a problem may hold "; " itself, but never before a field name.
    return (e as ConnectError).rawMessage.replace(/^invalid job: /, '').split(/; (?=(?:tasks|tenant|name|idempotency_key)\b)/);
  }
}

const sel = (key: string, operator: SelectorOperator, values: string[] = []) => ({ key, operator, values });

describe('validateSubmit: requirements', () => {
  it.each<[string, TaskInit['requirements'], string[]]>([
    ['nothing', {}, []],
    ['a full, sound set', {
      anyOf: [DeviceKind.CUDA], deviceMemoryMinBytes: 40n * GiB, deviceMemoryMaxBytes: 80n * GiB,
      selectors: [sel('gpu', SelectorOperator.IN, ['a100', 'h100']), sel('spot', SelectorOperator.DOES_NOT_EXIST)],
      preferences: [{ weight: -5, kind: { case: 'label', value: sel('zone', SelectorOperator.EQUALS, ['a']) } }, { weight: 3, kind: { case: 'device', value: DeviceKind.ROCM } }],
    }, []],
    ['an empty "in"', { selectors: [sel('gpu', SelectorOperator.IN)] }, ['tasks[0].requirements.selectors[0].values: "in" needs at least one value']],
    ['no operator', { selectors: [sel('gpu', SelectorOperator.UNSPECIFIED)] }, [expect.stringMatching(/^tasks\[0\]\.requirements\.selectors\[0\]\.operator: 0 is not a selector operator/) as unknown as string]],
    ['a bad key', { selectors: [sel('a b', SelectorOperator.EXISTS)] }, [expect.stringMatching(/^tasks\[0\]\.requirements\.selectors\[0\]\.key: "a b" is not a label key/) as unknown as string]],
    ['min over max', { deviceMemoryMinBytes: 80n * GiB, deviceMemoryMaxBytes: 40n * GiB },
      [`tasks[0].requirements: device_memory_min_bytes ${80n * GiB} is over device_memory_max_bytes ${40n * GiB}; no device can fit`]],
    ['an unknown device kind', { anyOf: [DeviceKind.CUDA, 42 as DeviceKind], allOf: [DeviceKind.UNSPECIFIED] },
      ['tasks[0].requirements.any_of[1]: 42 is not a device kind', 'tasks[0].requirements.all_of[0]: 0 is not a device kind']],
    ['a preference without a kind', { preferences: [{ weight: 1 }] }, ['tasks[0].requirements.preferences[0]: set label or device']],
    ['a preference weight out of range', { preferences: [{ weight: 5000, kind: { case: 'device', value: DeviceKind.CUDA } }] }, ['tasks[0].requirements.preferences[0].weight: 5000 is outside ±1000']],
    ['a bad label preference', { preferences: [{ weight: 1, kind: { case: 'label', value: sel('os', SelectorOperator.EQUALS) } }] },
      ['tasks[0].requirements.preferences[0].label.values: "=" needs exactly one value, has 0']],
    ['a bad device preference', { preferences: [{ weight: 1, kind: { case: 'device', value: DeviceKind.UNSPECIFIED } }] }, ['tasks[0].requirements.preferences[0].device: 0 is not a device kind']],
    ['too many selectors', { selectors: Array.from({ length: 33 }, () => sel('os', SelectorOperator.EXISTS)) }, ['tasks[0].requirements.selectors: 33 selectors; at most 32']],
    ['too many devices', { deviceCount: 65 }, ['tasks[0].requirements.device_count: 65 is over 64']],
  ])('%s', (_name, requirements, want) => {
    expect(problems([{ name: 'a', requirements }])).toEqual(want);
  });
});

describe('validateSubmit: retry, deadline, expected duration, tenant', () => {
  it.each<[string, TaskInit, string[]]>([
    ['a sound retry policy', { retry: { initialBackoffMs: 500, multiplier: 1.5, maxBackoffMs: 30_000, onTestFailure: true } }, []],
    ['a NaN multiplier', { retry: { multiplier: NaN } }, ['tasks[0].retry.multiplier: NaN is not a number from 1 to 10 (0 means 2)']],
    ['a negative multiplier', { retry: { multiplier: -1 } }, ['tasks[0].retry.multiplier: -1 is not a number from 1 to 10 (0 means 2)']],
    ['a huge multiplier', { retry: { multiplier: 1e9 } }, ['tasks[0].retry.multiplier: 1000000000 is not a number from 1 to 10 (0 means 2)']],
    ['initial over max', { retry: { initialBackoffMs: 10_000, maxBackoffMs: 5000 } }, ['tasks[0].retry.initial_backoff_ms: 10000 is over max_backoff_ms 5000']],
    ['a backoff past the bound', { retry: { maxBackoffMs: 7_200_000 } }, ['tasks[0].retry.max_backoff_ms: 7200000 is over the maximum 3600000']],
    ['a deadline in the past', { deadlineMs: 1n }, []],
    ['no deadline', { deadlineMs: 0n }, []],
    ['a negative deadline', { deadlineMs: -1n }, ['tasks[0].deadline_ms: -1 is negative; 0 means no deadline']],
    ['a deadline in nanoseconds', { deadlineMs: 1_700_000_000_000_000_000n }, ['tasks[0].deadline_ms: 1700000000000000000 is past the year 9999; it is Unix milliseconds']],
    ['an expected duration past a week', { expectedDurationMs: 8 * 24 * 3600 * 1000 }, ['tasks[0].expected_duration_ms: 691200000 is over the maximum 604800000']],
  ])('%s', (_name, task, want) => {
    expect(problems([{ name: 'a', ...task }])).toEqual(want);
  });

  it('checks the tenant name', () => {
    expect(problems([{ name: 'a' }], { tenant: 'team-a' })).toEqual([]);
    expect(problems([{ name: 'a' }], { tenant: 'team a' })).toEqual([expect.stringMatching(/^tenant: "team a" is not a tenant name: use letters, digits/)]);
    expect(problems([{ name: 'a' }], { tenant: 'x'.repeat(64) })).toEqual([expect.stringMatching(/^tenant: .* is longer than 63 characters/)]);
  });
});

describe('validateSubmit: dependencies', () => {
  const t = (name: string, ...dependsOn: string[]): TaskInit => ({ name, dependsOn });

  it.each<[string, TaskInit[], string[]]>([
    ['a DAG', [t('build'), t('test-1', 'build'), t('test-2', 'build'), t('report', 'test-1', 'test-2')], []],
    ['an unknown name', [t('a', 'b')], ['tasks[0].depends_on[0]: no task named "b" in this job']],
    ['itself', [t('a', 'a')], ['tasks[0].depends_on[0]: "a" is the task itself']],
    ['a duplicate name depended on', [t('x'), t('x'), t('y', 'x')], ['tasks[2].depends_on[0]: "x" names 2 tasks (tasks[0], tasks[1]); a task depended on needs a unique name']],
    ['duplicate names not depended on are fine', [t('x'), t('x'), t('y'), t('z', 'y')], []],
    ['listed twice', [t('a'), t('b', 'a', 'a')], ['tasks[1].depends_on[1]: "a" is listed twice']],
    ['a cycle', [t('a', 'b'), t('b', 'c'), t('c', 'a')], ['tasks: dependency cycle a → b → c → a']],
    ['a cycle beside a self-dependency', [t('a', 'a', 'b'), t('b', 'a')], ['tasks[0].depends_on[0]: "a" is the task itself', 'tasks: dependency cycle a → b → a']],
  ])('%s', (_name, tasks, want) => {
    expect(problems(tasks)).toEqual(want);
  });

  it('bounds the dependency edges of a job', () => {
    // 100 tasks fanning in from 1000 others: exactly the bound; one more edge is past it.
    const names = Array.from({ length: 1100 }, (_, i) => `t${i}`);
    const tasks = names.map((n, i) => t(n, ...(i < 100 ? names.slice(100) : [])));
    expect(problems(tasks)).toEqual([]);
    tasks[100] = t('t100', 't0');
    expect(problems(tasks)).toEqual([`tasks: ${dependencyEdgesMax + 1} dependencies in all; at most ${dependencyEdgesMax} per job`]);
  });
});
