import { create, toBinary } from '@bufbuild/protobuf';
import { AttemptOutcome, TaskState } from '../../libs/gen/dtf/common/v1/common_pb';
import { EventSchema, TailEventsResponseSchema, type Event } from '../../libs/gen/dtf/result/v1/result_service_pb';
import { attemptFinished, attemptStarted, jobFinished, jobSubmitted, taskFinished } from './event-fixtures';
import { encodeFeedMessage } from './feed-encode';

function sampleEvents(): Event[] {
  const submitted = jobSubmitted(1n, 'jöb-1', 300);
  if (submitted.kind.case === 'jobSubmitted') {
    const t = submitted.kind.value.tasks[0];
    t.spec!.argv = ['sh', '-c', 'echo "ünïcode" && exit 3', 'x'.repeat(300)];
    t.spec!.env = { A: '1', EMPTY: '', '': 'v' };
    t.spec!.dependsOn = ['x', 'y'];
    t.spec!.deadlineMs = -5n;
    t.spec!.priority = -7;
    t.warnings = ['w'];
    t.waitingOn = ['z'];
    t.finishedAtMs = 1n << 60n;
    const finished = attemptFinished(9n, 'j', 't').kind;
    if (finished.case === 'attemptFinished') t.result = finished.value.result;
  }
  const failed = attemptFinished(3n, 'jöb-1', 'jöb-1-t0', {
    outcome: AttemptOutcome.FAILED,
    testCases: [{ suite: 's', name: 'n', message: 'boom' }],
    metrics: [{ name: 'm', value: 1.5, unit: 'ms' }],
  });
  if (failed.kind.case === 'attemptFinished') {
    failed.kind.value.result!.exitCode = -1;
    failed.kind.value.result!.stderrTail = 'e'.repeat(20_000);
  }
  const unknown = attemptStarted(6n, 'j', 't');
  unknown.$unknown = [{ no: 99, wireType: 0, data: new Uint8Array([1]) }];
  return [
    submitted,
    attemptStarted(2n, 'jöb-1', 'jöb-1-t0', 2),
    failed,
    taskFinished(4n, 'jöb-1', 'jöb-1-t0', TaskState.FAILED, 2),
    jobFinished(5n, 'jöb-1', 3, 1),
    unknown,
    create(EventSchema, { index: 2n ** 64n - 1n, timeMs: -1n }),
    create(EventSchema, {}),
  ];
}

describe('encodeFeedMessage', () => {
  it('writes the bytes toBinary writes, for every event kind, big nested messages and unknown fields', () => {
    const message = create(TailEventsResponseSchema, { events: sampleEvents() });
    expect(Buffer.from(encodeFeedMessage(message)).equals(Buffer.from(toBinary(TailEventsResponseSchema, message)))).toBe(true);
    // Each event alone too: a short message must not keep bytes of an earlier, longer one.
    for (const e of message.events) {
      const one = create(TailEventsResponseSchema, { events: [e] });
      expect(Buffer.from(encodeFeedMessage(one)).equals(Buffer.from(toBinary(TailEventsResponseSchema, one)))).toBe(true);
    }
    expect(encodeFeedMessage(create(TailEventsResponseSchema, {})).length).toBe(0);
  });
});
