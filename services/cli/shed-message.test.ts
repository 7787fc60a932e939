import { Code, ConnectError } from '@connectrpc/connect';
import { shedMessage } from './shed-message';

describe('shedMessage', () => {
  it('says nothing was queued and when to submit again', () => {
    const e = new ConnectError('queue full: 3 tasks queued, 1 more would pass the bound of 3 for priority 0; retry after 12 s', Code.ResourceExhausted, { 'retry-after': '12' });
    expect(shedMessage(e)).toBe('dtf: submission refused, nothing was queued: queue full: 3 tasks queued, 1 more would pass the bound of 3 for priority 0. The coordinator is shedding load; submit again in 12 s');
  });

  it('leaves other errors alone, RESOURCE_EXHAUSTED without a retry-after (a message too large) included', () => {
    expect(shedMessage(new ConnectError('message larger than max', Code.ResourceExhausted))).toBeUndefined();
    expect(shedMessage(new ConnectError('task "x" not found', Code.NotFound, { 'retry-after': '1' }))).toBeUndefined();
    expect(shedMessage(new Error('boom'))).toBeUndefined();
  });
});
