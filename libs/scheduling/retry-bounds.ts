import type { RetryPolicy } from '../gen/dtf/common/v1/common_pb';
import { backoffInitialMsDefault, backoffMaxMsDefault, backoffMultiplierDefault } from '../state/retry-policy';

/*
 * What a submitted retry policy may ask for. The defaults and the backoff
 * itself are the state machine's (libs/state/retry-policy.ts); these are the
 * bounds that submission checks and suite files share.
 */

/** No backoff is longer than an hour: past that, a retry is better made by a person. */
export const retryBackoffMsMax = 3_600_000;
/** A larger growth factor reaches the maximum after one or two retries anyway. */
export const retryMultiplierMax = 10;

/**
 * What is wrong with a submitted retry policy, one entry per problem, each
 * starting with the field: `multiplier: NaN is not a number from 1 to 10 (0 means 2)`.
 * Zero fields take their defaults before comparing, so an initial backoff
 * over the default maximum is reported too.
 */
export function retryPolicyProblems(policy: RetryPolicy): string[] {
  const p: string[] = [];
  const m = policy.multiplier;
  if (m !== 0 && !(Number.isFinite(m) && m >= 1 && m <= retryMultiplierMax)) {
    p.push(`multiplier: ${m} is not a number from 1 to ${retryMultiplierMax} (0 means ${backoffMultiplierDefault})`);
  }
  if (policy.initialBackoffMs > retryBackoffMsMax) p.push(`initial_backoff_ms: ${policy.initialBackoffMs} is over the maximum ${retryBackoffMsMax}`);
  if (policy.maxBackoffMs > retryBackoffMsMax) p.push(`max_backoff_ms: ${policy.maxBackoffMs} is over the maximum ${retryBackoffMsMax}`);
  const initial = policy.initialBackoffMs || backoffInitialMsDefault;
  const max = policy.maxBackoffMs || backoffMaxMsDefault;
  if (p.length === 0 && initial > max) {
    p.push(`initial_backoff_ms: ${initial} is over max_backoff_ms ${max}${policy.maxBackoffMs === 0 ? ' (the default)' : ''}`);
  }
  return p;
}
