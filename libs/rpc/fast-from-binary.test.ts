import { create, fromBinary, toBinary, type DescMessage } from '@bufbuild/protobuf';
import { AttemptOutcome } from '../gen/dtf/common/v1/common_pb';
import { ConfStateSchema } from '../gen/dtf/raft/v1/raft_pb';
import { EventSchema } from '../gen/dtf/result/v1/result_service_pb';
import { CommandSchema } from '../gen/dtf/state/v1/command_pb';
import { ConnectRequestSchema, ConnectResponseSchema, HelloSchema, ProgressSchema } from '../gen/dtf/worker/v1/worker_service_pb';
import { attemptFinished, jobSubmitted } from '../../services/results/event-fixtures';
import { command, setWorkerFlags, submitJob } from '../state/test-commands';
import { firstDifference } from './codec/same-message';
import { fastToBinary } from './fast-binary';
import { fastFromBinary } from './fast-from-binary';

/** Decodes with both decoders and expects identical messages. */
function same(schema: DescMessage, bytes: Uint8Array): void {
  const want = fromBinary(schema, bytes);
  const got = fastFromBinary(schema, bytes);
  expect(firstDifference(got, want)).toBeUndefined();
}

/** Expects both decoders to reject `bytes` with the same message. */
function bothThrow(schema: DescMessage, bytes: number[]): void {
  let want: unknown;
  try {
    fromBinary(schema, new Uint8Array(bytes));
  } catch (e) {
    want = e;
  }
  expect(want).toBeDefined();
  expect(() => fastFromBinary(schema, new Uint8Array(bytes))).toThrow((want as Error).message);
}

describe('fastFromBinary', () => {
  it('decodes log commands, feed events and worker messages as fromBinary does', () => {
    same(CommandSchema, toBinary(CommandSchema, command(1_700_000_000_123n, submitJob('j1', [{ id: 't1' }, { id: 't2', retries: 3, priority: -5 }], 'idem-ü'))));
    same(CommandSchema, toBinary(CommandSchema, command(5n, setWorkerFlags('w1', { cordoned: false }))));
    same(EventSchema, toBinary(EventSchema, jobSubmitted(1n, 'job-1', 3)));
    same(EventSchema, toBinary(EventSchema, attemptFinished(3n, 'job-1', 'job-1-t0', { outcome: AttemptOutcome.FAILED, metrics: [{ name: 'm', value: -0, unit: '' }] })));
    same(ConnectResponseSchema, toBinary(ConnectResponseSchema, create(ConnectResponseSchema, {
      msg: { case: 'assign', value: { assignments: [{ key: { taskId: 't', attempt: 1 }, jobId: 'j', spec: { name: 'n', argv: ['true'], env: { A: '1', B: '' } } }] } },
    })));
  });

  it('keeps explicit presence: an optional field set to false is there, an unset one is not', () => {
    const msg = fastFromBinary(CommandSchema, toBinary(CommandSchema, command(5n, setWorkerFlags('w1', { cordoned: false }))));
    expect(msg.kind.case === 'setWorkerFlags' && msg.kind.value).toMatchObject({ cordoned: false });
    expect(msg.kind.case === 'setWorkerFlags' && 'draining' in msg.kind.value).toBe(false);
  });

  it('accepts packed and unpacked repeated scalars', () => {
    const unpacked = [0x08, 0x01, 0x08, 0x80, 0x80, 0x80, 0x80, 0x10];
    same(ConfStateSchema, new Uint8Array(unpacked));
    expect(fastFromBinary(ConfStateSchema, new Uint8Array(unpacked)).voters).toEqual([1n, 2n ** 32n]);
    same(ConfStateSchema, toBinary(ConfStateSchema, create(ConfStateSchema, { voters: [1n, 2n ** 64n - 1n] })));
  });

  it('reads map entries with fields missing or in any order, and merges a message field seen twice', () => {
    // Hello.labels (4): {value "v" only}, {value then key}; Hello.hardware (3) twice.
    const bytes = [0x22, 0x03, 0x12, 0x01, 0x76, 0x22, 0x06, 0x12, 0x01, 0x76, 0x0a, 0x01, 0x6b, 0x1a, 0x03, 0x0a, 0x01, 0x68, 0x1a, 0x02, 0x28, 0x04];
    same(HelloSchema, new Uint8Array(bytes));
    const hello = fastFromBinary(HelloSchema, new Uint8Array(bytes));
    expect(hello.labels).toEqual({ '': 'v', k: 'v' });
    expect(hello.hardware).toMatchObject({ hostname: 'h', cpuCores: 4 });
  });

  it('keeps unknown fields and writes them back', () => {
    const known = toBinary(ConnectRequestSchema, create(ConnectRequestSchema, { msg: { case: 'credit', value: { grant: 3 } } }));
    const bytes = Buffer.concat([known, Buffer.from([0xf8, 0x3f, 0x2a, 0x9a, 0x05, 0x02, 0x68, 0x69])]);
    same(ConnectRequestSchema, bytes);
    expect(Buffer.from(fastToBinary(ConnectRequestSchema, fastFromBinary(ConnectRequestSchema, bytes))).equals(bytes)).toBe(true);
  });

  it('rejects malformed input with the error fromBinary gives', () => {
    bothThrow(HelloSchema, [0x0a, 0x05, 0x61]); // string longer than the buffer
    bothThrow(HelloSchema, [0x28]); // varint missing
    bothThrow(HelloSchema, [0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]); // eleven-byte varint
    bothThrow(HelloSchema, [0x0e, 0x00]); // wire type 6
    bothThrow(HelloSchema, [0x07]); // field number 0
    bothThrow(HelloSchema, [0xfc, 0x01]); // end group with no start
    bothThrow(HelloSchema, [0x0a, 0x02, 0xc3, 0x28]); // invalid UTF-8 in a proto3 string
    bothThrow(HelloSchema, [0x1a, 0x05, 0x0a, 0x10]); // nested message cut short
    bothThrow(ProgressSchema, [0x11, 0x00, 0x00]); // double cut short
  });
});
