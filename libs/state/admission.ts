export interface QueueBounds {
  /** Queued tasks (pending, in every tenant) at most. */
  queuedMax: number;
  /** Queued tasks of one tenant at most. */
  tenantQueuedMax: number;
}

export const defaultBounds: QueueBounds = { queuedMax: 2_000_000, tenantQueuedMax: 1_000_000 };

/**
 * The part of a bound a submission of this priority may fill. Low priority
 * is refused first as the queue fills, so under overload it is what gets
 * shed, while urgent work still gets in. Nothing already accepted is dropped.
 */
export function boundShare(priority: number): number {
  if (priority > 0) return 1;
  if (priority === 0) return 0.9;
  return 0.75;
}

/** Why a submission of `n` tasks must be refused now, or undefined to admit it. */
export function admissionRefusal(
  b: QueueBounds, priority: number, n: number, queued: number, tenant: string, tenantQueued: number,
): string | undefined {
  const share = boundShare(priority);
  const all = Math.floor(b.queuedMax * share);
  if (queued + n > all) return `queue full: ${queued} tasks queued, ${n} more would pass the bound of ${all} for priority ${priority}`;
  const mine = Math.floor(b.tenantQueuedMax * share);
  if (tenantQueued + n > mine) return `tenant "${tenant}" queue full: ${tenantQueued} tasks queued, ${n} more would pass the bound of ${mine} for priority ${priority}`;
  return undefined;
}
