import { create } from '@bufbuild/protobuf';
import { RetryPolicySchema } from '../gen/dtf/common/v1/common_pb';
import { retryPolicyProblems } from './retry-bounds';

const policy = (p: { initialBackoffMs?: number; multiplier?: number; maxBackoffMs?: number; onTestFailure?: boolean }) => create(RetryPolicySchema, p);

describe('retryPolicyProblems', () => {
  it.each<[string, Parameters<typeof policy>[0], string[]]>([
    ['defaults', {}, []],
    ['a sound policy', { initialBackoffMs: 200, multiplier: 1.5, maxBackoffMs: 10_000 }, []],
    ['NaN multiplier', { multiplier: NaN }, ['multiplier: NaN is not a number from 1 to 10 (0 means 2)']],
    ['negative multiplier', { multiplier: -2 }, ['multiplier: -2 is not a number from 1 to 10 (0 means 2)']],
    ['shrinking multiplier', { multiplier: 0.5 }, ['multiplier: 0.5 is not a number from 1 to 10 (0 means 2)']],
    ['huge multiplier', { multiplier: 1e300 }, ['multiplier: 1e+300 is not a number from 1 to 10 (0 means 2)']],
    ['infinite multiplier', { multiplier: Infinity }, ['multiplier: Infinity is not a number from 1 to 10 (0 means 2)']],
    ['initial over max', { initialBackoffMs: 5000, maxBackoffMs: 1000 }, ['initial_backoff_ms: 5000 is over max_backoff_ms 1000']],
    ['initial over the default max', { initialBackoffMs: 120_000 }, ['initial_backoff_ms: 120000 is over max_backoff_ms 60000 (the default)']],
    ['max under the default initial', { maxBackoffMs: 500 }, ['initial_backoff_ms: 1000 is over max_backoff_ms 500']],
    ['past the bound', { initialBackoffMs: 4e6, maxBackoffMs: 4e6 }, ['initial_backoff_ms: 4000000 is over the maximum 3600000', 'max_backoff_ms: 4000000 is over the maximum 3600000']],
  ])('%s', (_name, p, want) => {
    expect(retryPolicyProblems(policy(p))).toEqual(want);
  });
});
