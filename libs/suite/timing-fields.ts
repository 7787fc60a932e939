import { create } from '@bufbuild/protobuf';
import { RetryPolicySchema, type RetryPolicy } from '../gen/dtf/common/v1/common_pb';
import { retryBackoffMsMax, retryMultiplierMax } from '../scheduling/retry-bounds';
import { backoffInitialMsDefault, backoffMaxMsDefault } from '../state/retry-policy';
import type { RawTaskFields } from './build-task';
import type { SuiteIssue } from './suite-error';
import { parseDuration } from './units';
import type { FieldPath, YamlLocator } from './yaml-locator';

/** A deadline is at most this far after submission: a year. */
export const deadlineAfterMsMax = 365 * 24 * 3600 * 1000;
/** `expected_duration_ms` is a uint32. */
export const expectedDurationMsMax = 2 ** 32 - 1;

/** The TaskSpec fields about time: when it is due, how it is retried, how long it should take. */
export interface TimingFields {
  deadlineMs: bigint;
  retry?: RetryPolicy;
  expectedDurationMs: number;
}

/**
 * Builds the time fields of each source task (`deadline`, `retry`,
 * `expected_duration`), which hold no placeholders, and reports values the
 * schema admits but the scheduler cannot use. A problem in `defaults:` is
 * reported once, at the default, however many tasks inherit it.
 */
export class TimingBuilder {
  private readonly reported = new Set<string>();

  /** `nowMs` anchors relative deadlines: the submission time, given by the caller. */
  constructor(
    private readonly locator: YamlLocator,
    private readonly issues: SuiteIssue[],
    private readonly nowMs: number | undefined,
  ) {}

  /** `source` is the task as written, `task` the task over its defaults. */
  build(index: number, source: RawTaskFields, task: RawTaskFields): TimingFields {
    const at = (key: keyof RawTaskFields, ...rest: (string | number)[]): FieldPath =>
      source[key] !== undefined ? ['tasks', index, key, ...rest] : ['defaults', key, ...rest];
    return {
      deadlineMs: this.deadlineMs(task.deadline, at('deadline')),
      retry: task.retry && this.retry(task.retry, (key) => (source.retry?.[key] !== undefined ? ['tasks', index, 'retry', key] : ['defaults', 'retry', key])),
      expectedDurationMs: this.expectedDurationMs(task.expected_duration, at('expected_duration')),
    };
  }

  private deadlineMs(deadline: string | number | undefined, path: FieldPath): bigint {
    if (deadline === undefined) return 0n;
    if (this.nowMs === undefined) throw new Error('parseSuite: a suite with a deadline needs opts.nowMs, the submission time');
    const ms = parseDuration(deadline) ?? 0;
    if (ms === 0) return this.report(path, `${JSON.stringify(deadline)} is no time at all; give the time the task has after submission, e.g. "30m", or leave deadline out`, 0n);
    if (ms > deadlineAfterMsMax) return this.report(path, `${JSON.stringify(deadline)} is more than a year away; the furthest deadline is ${deadlineAfterMsMax / 3_600_000}h`, 0n);
    return BigInt(Math.round(this.nowMs) + ms);
  }

  private expectedDurationMs(value: string | number | undefined, path: FieldPath): number {
    const ms = value === undefined ? 0 : parseDuration(value) ?? 0;
    if (ms <= expectedDurationMsMax) return ms;
    return this.report(path, `${JSON.stringify(value)} is too long; the longest is ${expectedDurationMsMax} ms (about 49 days)`, 0);
  }

  private retry(raw: NonNullable<RawTaskFields['retry']>, at: (key: keyof NonNullable<RawTaskFields['retry']>) => FieldPath): RetryPolicy {
    const backoff = (key: 'initial' | 'max'): number => {
      const value = raw[key];
      if (value === undefined) return 0;
      const ms = parseDuration(value) ?? 0;
      if (ms === 0) return this.report(at(key), `${JSON.stringify(value)} is no time at all; leave it out for the default (${key === 'initial' ? '1s' : '60s'})`, 0);
      if (ms > retryBackoffMsMax) return this.report(at(key), `${JSON.stringify(value)} is longer than the longest backoff, ${retryBackoffMsMax / 60_000}m`, 0);
      return ms;
    };
    const initial = backoff('initial');
    const max = backoff('max');
    if ((initial || backoffInitialMsDefault) > (max || backoffMaxMsDefault)) {
      const maxText = raw.max === undefined ? `the default ${backoffMaxMsDefault / 1000}s` : JSON.stringify(raw.max);
      const initialText = raw.initial === undefined ? `the default ${backoffInitialMsDefault / 1000}s` : JSON.stringify(raw.initial);
      this.report(at(raw.initial === undefined ? 'max' : 'initial'), `the first backoff (${initialText}) is longer than the longest (${maxText}); make retry.initial at most retry.max`, 0);
    }
    // The schema bounds the multiplier; this keeps the two in step if either changes.
    const multiplier = Math.min(raw.multiplier ?? 0, retryMultiplierMax);
    return create(RetryPolicySchema, { initialBackoffMs: initial, multiplier, maxBackoffMs: max, onTestFailure: raw.on_test_failure ?? false });
  }

  private report<T>(path: FieldPath, message: string, fallback: T): T {
    const issue = this.locator.issue(path, message);
    const key = `${issue.path}\n${message}`;
    if (!this.reported.has(key)) this.issues.push(issue);
    this.reported.add(key);
    return fallback;
  }
}
