import { create } from '@bufbuild/protobuf';
import { CircuitBreakerSchema, type CircuitBreaker } from '../gen/dtf/common/v1/common_pb';

export interface BreakerOptions {
  /** Consecutive infrastructure failures that quarantine a worker. */
  threshold: number;
  /** The first quarantine's length; each trip in a row doubles it, up to `cooldownMaxMs`. */
  cooldownMs: number;
  cooldownMaxMs: number;
}

export const defaultBreaker: BreakerOptions = { threshold: 3, cooldownMs: 30_000, cooldownMaxMs: 600_000 };

export function newBreaker(): CircuitBreaker {
  return create(CircuitBreakerSchema, {});
}

/** An infrastructure failure on the worker: count it, and quarantine when due. */
export function breakerFailed(b: CircuitBreaker, o: BreakerOptions, timeMs: bigint, reason: string): void {
  b.consecutiveFailures++;
  if (b.probing || (!b.quarantined && b.consecutiveFailures >= o.threshold)) {
    const cooldown = Math.min(o.cooldownMaxMs, o.cooldownMs * 2 ** b.trips);
    b.quarantined = true;
    b.probing = false;
    b.trips++;
    b.untilMs = timeMs + BigInt(cooldown);
    b.reason = `${b.consecutiveFailures} infrastructure failures in a row, the last: ${reason}`;
  }
}

/** An attempt that ran to an end (passed or failed on its own): the worker is sound. */
export function breakerSucceeded(b: CircuitBreaker): void {
  b.consecutiveFailures = 0;
  if (b.probing || b.quarantined) clearBreaker(b);
}

export function clearBreaker(b: CircuitBreaker): void {
  b.consecutiveFailures = 0;
  b.quarantined = false;
  b.probing = false;
  b.trips = 0;
  b.untilMs = 0n;
  b.reason = '';
}

/**
 * How many new tasks a worker may take now: any number when healthy; one
 * probe once a quarantine has cooled down (and none is running); else none.
 */
export function breakerAllows(b: CircuitBreaker | undefined, timeMs: bigint): 'any' | 'probe' | 'none' {
  if (!b?.quarantined) return 'any';
  if (b.probing || timeMs < b.untilMs) return 'none';
  return 'probe';
}
