import { Code, ConnectError } from '@connectrpc/connect';

/**
 * The message for a submission the coordinator shed because a queue bound
 * was reached (RESOURCE_EXHAUSTED with a retry-after), or undefined for any
 * other error. Nothing of a shed submission was queued, so submitting it
 * again later, unchanged, is safe.
 */
export function shedMessage(e: unknown): string | undefined {
  if (!(e instanceof ConnectError) || e.code !== Code.ResourceExhausted) return undefined;
  const seconds = e.metadata.get('retry-after');
  if (!seconds) return undefined;
  const why = e.rawMessage.replace(/; retry after \d+ s$/, '');
  return `dtf: submission refused, nothing was queued: ${why}. The coordinator is shedding load; submit again in ${seconds} s`;
}
