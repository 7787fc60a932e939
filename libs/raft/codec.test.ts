import fc from 'fast-check';
import { decodeMessage, encodeMessage } from './codec';
import { EntryType, MessageType, newMessage, type Message } from './types';

const index = fc.nat(Number.MAX_SAFE_INTEGER);

describe('codec', () => {
  test('a message survives protobuf encoding unchanged, 53-bit indexes included', () => {
    const entry = fc.record({ term: index, index, type: fc.constantFrom(EntryType.NORMAL, EntryType.CONF_CHANGE), data: fc.uint8Array({ maxLength: 8 }) });
    const message = fc.record({
      type: fc.constantFrom(MessageType.APPEND, MessageType.SNAPSHOT, MessageType.VOTE),
      from: index,
      to: index,
      term: index,
      logTerm: index,
      index,
      entries: fc.array(entry, { maxLength: 3 }),
      commit: index,
      reject: fc.boolean(),
      rejectHint: index,
      snapshot: fc.option(fc.record({ index, term: index, confState: fc.record({ voters: fc.array(index, { maxLength: 3 }) }) }), { nil: undefined }),
      chunkOffset: index,
      chunkData: fc.uint8Array({ maxLength: 8 }),
      chunkLast: fc.boolean(),
      context: fc.uint8Array({ maxLength: 8 }),
      transfer: fc.boolean(),
    });
    fc.assert(
      fc.property(message, (m: Message) => {
        expect(decodeMessage(encodeMessage(m))).toEqual(m);
      }),
    );
  });

  test('zero fields decode to zero values, not undefined', () => {
    const m = newMessage({ type: MessageType.HEARTBEAT, from: 1, to: 2, term: 3 });
    expect(decodeMessage(encodeMessage(m))).toEqual(m);
  });
});
