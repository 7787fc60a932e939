import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { AttemptOutcome } from '../gen/dtf/common/v1/common_pb';
import { MessageSchema as RaftMessageSchema, ConfStateSchema } from '../gen/dtf/raft/v1/raft_pb';
import { EventSchema } from '../gen/dtf/result/v1/result_service_pb';
import { CommandSchema } from '../gen/dtf/state/v1/command_pb';
import { ConnectRequestSchema, ConnectResponseSchema } from '../gen/dtf/worker/v1/worker_service_pb';
import { assign, cancelTasks, checkpoint, command, finish, key, setWorkerFlags, submitJob, workerJoined, workerLost } from '../state/test-commands';
import { attemptFinished, attemptStarted, jobSubmitted } from '../../services/results/event-fixtures';
import { fastToBinary } from './fast-binary';

function same<D extends DescMessage>(schema: D, message: MessageShape<D>): void {
  expect(Buffer.from(fastToBinary(schema, message)).toString('hex')).toBe(Buffer.from(toBinary(schema, message)).toString('hex'));
}

describe('fastToBinary', () => {
  it('encodes every log command as toBinary does', () => {
    const kinds = [
      submitJob('j1', [{ id: 't1' }, { id: 't2', retries: 3, priority: -5 }], 'idem-ü'),
      assign(['t1', 1, 'w1'], ['t2', 2, 'w2']),
      finish(['t1', 1, AttemptOutcome.SUCCEEDED, 'w1'], ['t2', 2, AttemptOutcome.FAILED]),
      workerJoined('w1', [key('t1', 1)]),
      workerLost('w1'),
      setWorkerFlags('w1', { cordoned: false, draining: true }),
      setWorkerFlags('w1', {}),
      cancelTasks(['t1', 't2']),
      checkpoint(2n ** 63n + 5n),
    ];
    for (const k of kinds) same(CommandSchema, command(1_700_000_000_123n, k));
  });

  it('encodes feed events, with maps, nested lists and doubles', () => {
    same(EventSchema, jobSubmitted(1n, 'job-1', 5));
    same(EventSchema, attemptStarted(2n, 'job-1', 'job-1-t0'));
    same(EventSchema, attemptFinished(3n, 'job-1', 'job-1-t0', {
      outcome: AttemptOutcome.TIMED_OUT,
      testCases: [{ suite: 's', name: 'ünïcode ✓ 😀', durationSeconds: -0 }, { name: 'b', durationSeconds: 1.5 }],
      metrics: [{ name: 'tokens/s', value: 1e300, unit: '' }, { name: 'zero', value: 0, unit: 'x' }],
    }));
  });

  it('encodes worker stream messages and unknown fields', () => {
    const res = create(ConnectResponseSchema, {
      msg: { case: 'assign', value: { assignments: [{ key: { taskId: 't', attempt: 1 }, jobId: 'j', spec: { name: 'n', argv: ['true'], env: { A: '1', B: '' } } }] } },
    });
    same(ConnectResponseSchema, res);
    const req = create(ConnectRequestSchema, {
      msg: { case: 'results', value: { results: [{ key: { taskId: 't', attempt: 7 }, outcome: AttemptOutcome.FAILED, exitCode: -1, startedAtMs: 5n }] } },
    });
    same(ConnectRequestSchema, req);
    const withUnknown = fromBinary(ConnectRequestSchema, Buffer.concat([Buffer.from(toBinary(ConnectRequestSchema, req)), Buffer.from([0xf8, 0x3f, 0x2a])]));
    same(ConnectRequestSchema, withUnknown);
  });

  it('encodes packed repeated 64-bit values and bytes', () => {
    same(ConfStateSchema, create(ConfStateSchema, { voters: [1n, 2n ** 32n, 2n ** 35n - 1n, 2n ** 35n, 2n ** 40n, 2n ** 53n, 2n ** 64n - 1n] }));
    same(RaftMessageSchema, create(RaftMessageSchema, { from: 1n, to: 2n, term: 3n, entries: [{ term: 3n, index: 9n, data: new Uint8Array([0, 1, 255]) }], context: new Uint8Array(300) }));
  });

  it('matches toBinary on random tasks and results', () => {
    fc.assert(fc.property(
      fc.string({ unit: 'grapheme' }), fc.integer(), fc.nat(), fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), fc.double(), fc.dictionary(fc.string(), fc.string()), fc.array(fc.string(), { maxLength: 4 }),
      (s, i, n, big, d, dict, list) => {
        same(EventSchema, create(EventSchema, {
          index: big,
          kind: { case: 'attemptFinished', value: { jobId: s, result: { key: { taskId: s, attempt: n }, exitCode: i, finishedAtMs: big, metrics: [{ name: s, value: d }], stdoutTail: list.join('\n') } } },
        }));
        same(CommandSchema, create(CommandSchema, {
          timeMs: big,
          kind: { case: 'submitJob', value: { job: { id: s, labels: dict }, tasks: [{ id: s, spec: { name: s, priority: i, argv: list, tags: dict, timeoutMs: n } }] } },
        }));
      },
    ));
  });
});
