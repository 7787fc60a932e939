import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { AttemptOutcome, TaskState } from '../../libs/gen/dtf/common/v1/common_pb';
import { EventSchema, TailEventsResponseSchema, type Event } from '../../libs/gen/dtf/result/v1/result_service_pb';
import { fastToBinary } from '../../libs/rpc/fast-binary';
import { attemptFinished, attemptStarted, jobFinished, jobSubmitted, taskFinished } from './event-fixtures';
import { decodeFeedMessage } from './feed-decode';

/** Events that exercise every field the fast path reads, and some it hands on. */
function sampleEvents(): Event[] {
  const submitted = jobSubmitted(1n, 'jöb-1', 3);
  if (submitted.kind.case === 'jobSubmitted') {
    const t = submitted.kind.value.tasks[0];
    t.spec!.argv = ['sh', '-c', 'echo "ünïcode" && exit 3'];
    t.spec!.env = { A: '1', PATH: '/usr/bin' };
    t.spec!.dependsOn = ['x', 'y'];
    t.spec!.deadlineMs = -5n;
    t.spec!.retry = { $typeName: 'dtf.common.v1.RetryPolicy', maxAttempts: 3 } as never;
    t.spec!.priority = -7;
    t.warnings = ['w'];
    t.finishedAtMs = 1n << 60n;
  }
  const failed = attemptFinished(3n, 'jöb-1', 'jöb-1-t0', {
    outcome: AttemptOutcome.FAILED,
    testCases: [{ suite: 's', name: 'n', message: 'boom' }],
    metrics: [{ name: 'm', value: 1.5, unit: 'ms' }],
  });
  if (failed.kind.case === 'attemptFinished') failed.kind.value.result!.exitCode = -1;
  return [
    submitted,
    attemptStarted(2n, 'jöb-1', 'jöb-1-t0', 2),
    failed,
    taskFinished(4n, 'jöb-1', 'jöb-1-t0', TaskState.FAILED, 2),
    jobFinished(5n, 'jöb-1', 3, 1),
    create(EventSchema, { index: 2n ** 64n - 1n, timeMs: -1n }),
  ];
}

describe('decodeFeedMessage', () => {
  it('returns what fromBinary returns, for every event kind', () => {
    const message = create(TailEventsResponseSchema, { events: sampleEvents() });
    for (const bytes of [toBinary(TailEventsResponseSchema, message), fastToBinary(TailEventsResponseSchema, message)]) {
      expect(decodeFeedMessage(bytes)).toEqual(fromBinary(TailEventsResponseSchema, bytes).events);
    }
  });

  it('hands an event with a field it does not know to fromBinary, keeping it', () => {
    const event = attemptStarted(7n, 'j', 't');
    const plain = toBinary(EventSchema, event);
    // Field 99, varint 1: what a newer coordinator might add.
    const withUnknown = new Uint8Array([...plain, (99 << 3) & 0xff | 0x80, 99 >> 4, 1]);
    const bytes = new Uint8Array([0x0a, withUnknown.length, ...withUnknown]);
    const decoded = decodeFeedMessage(bytes);
    expect(decoded).toEqual(fromBinary(TailEventsResponseSchema, bytes).events);
    expect(decoded[0].$unknown).toHaveLength(1);
  });

  it('decodes an empty message to no events', () => {
    expect(decodeFeedMessage(new Uint8Array(0))).toEqual([]);
  });
});
