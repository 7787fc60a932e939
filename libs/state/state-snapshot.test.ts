import fc from 'fast-check';
import { AttemptOutcome, TaskState } from '../gen/dtf/common/v1/common_pb';
import { CoordinatorState } from './coordinator-state';
import { decodeStateSnapshot, encodeStateSnapshot, stateHash } from './state-snapshot';
import {
  assign,
  canonicalJson,
  canonicalState,
  cancelTasks,
  checkpoint,
  command,
  finish,
  submitJob,
  workerJoined,
  workerLost,
  type CommandKind,
} from './test-commands';

const workers = ['w1', 'w2', 'w3'];

function cpuReq(cpuCores: number) {
  return { $typeName: 'dtf.common.v1.Requirements' as const, anyOf: [], allOf: [], deviceCount: 0, deviceMemoryMinBytes: 0n, deviceMemoryMaxBytes: 0n, cpuCores, memoryBytes: 0n, labels: {}, selectors: [], preferences: [] };
}
const outcomes = [AttemptOutcome.SUCCEEDED, AttemptOutcome.FAILED, AttemptOutcome.TIMED_OUT, AttemptOutcome.START_FAILED];

/** A plausible next command for `s`, chosen by `r` (numbers in [0, 1000)). */
function nextCommand(s: CoordinatorState, r: number[], step: number): CommandKind {
  const pick = <T>(xs: T[], i: number): T | undefined => (xs.length ? xs[r[i]! % xs.length] : undefined);
  const tasks = [...s.tasks.values()].map((t) => t.task);
  switch (r[0]! % 10) {
    case 0:
      return submitJob(`j${step}`, [{ id: `j${step}.1`, retries: 1 }, { id: `j${step}.2`, priority: r[1]! % 3 }], r[2]! % 4 === 0 ? `k${r[3]! % 3}` : '');
    case 8:
      // Dependencies, a deadline, a tenant, a retry policy and resources: the derived indexes a restore rebuilds.
      return submitJob(`j${step}`, [
        { id: `j${step}.a`, spec: { name: 'a', expectedDurationMs: r[1]! * 10, deadlineMs: BigInt(1000 + step + (r[2]! % 5) * 100), retry: { $typeName: 'dtf.common.v1.RetryPolicy', onTestFailure: true, initialBackoffMs: 1, multiplier: 0, maxBackoffMs: 0 } } },
        { id: `j${step}.b`, retries: 2, spec: { name: 'b', dependsOn: ['a'], requirements: cpuReq(r[3]! % 3) } },
        { id: `j${step}.c`, spec: { name: 'c', dependsOn: r[3]! % 2 ? ['a', 'b'] : [] } },
      ], '', `tenant-${r[2]! % 2}`);
    case 9:
      return r[1]! % 2
        ? { case: 'checkDeadlines', value: { $typeName: 'dtf.state.v1.CheckDeadlines' } }
        : { case: 'setWorkerFlags', value: { $typeName: 'dtf.state.v1.SetWorkerFlags', workerId: pick(workers, 2)!, clearQuarantine: true } };
    case 1: case 2: {
      const t = pick(tasks.filter((x) => x.state === TaskState.PENDING), 1);
      return t ? assign([t.id, t.attempt + 1, pick(workers, 2)!]) : workerJoined(pick(workers, 2)!);
    }
    case 3: case 4: {
      const t = pick(tasks.filter((x) => x.workerId !== ''), 1);
      return t ? finish([t.id, t.attempt, pick(outcomes, 2)!, r[3]! % 5 === 0 ? 'w9' : t.workerId]) : workerJoined(pick(workers, 2)!);
    }
    case 5:
      return r[1]! % 2 ? workerJoined(pick(workers, 2)!) : workerLost(pick(workers, 2)!);
    case 6:
      return cancelTasks([pick(tasks, 1)?.id ?? 'none']);
    default:
      return checkpoint(s.events.last - BigInt(r[1]! % 3) > 0n ? s.events.last - BigInt(r[1]! % 3) : 0n);
  }
}

describe('state snapshots', () => {
  it('restore a state that then behaves exactly like the original', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.nat(999), { minLength: 4, maxLength: 4 }), { minLength: 5, maxLength: 80 }), fc.nat(79), (steps, cutAt) => {
        const a = new CoordinatorState();
        let b: CoordinatorState | undefined;
        const cut = cutAt % steps.length;
        steps.forEach((r, i) => {
          const index = BigInt(i * 2 + 1); // gaps, as Raft no-ops and conf changes leave
          const cmd = command(BigInt(1000 + i), nextCommand(a, r, i));
          const ra = a.apply(index, cmd);
          if (b) {
            const rb = b.apply(index, cmd);
            if (canonicalJson(ra) !== canonicalJson(rb)) throw new Error(`step ${i}: results differ after restore`);
            if (stateHash(a) !== stateHash(b)) throw new Error(`step ${i}: state hashes differ after restore`);
          }
          if (i === cut) {
            b = CoordinatorState.fromSnapshot(decodeStateSnapshot(encodeStateSnapshot(a)));
            if (canonicalState(a) !== canonicalState(b)) throw new Error(`step ${i}: restored state differs`);
          }
        });
      }),
      { numRuns: 200, seed: 7 },
    );
  });

  it('leaves out events the collector released', () => {
    const s = new CoordinatorState();
    s.apply(1n, command(1n, submitJob('j1', [{ id: 't1' }, { id: 't2' }])));
    const before = decodeStateSnapshot(encodeStateSnapshot(s)).events.length;
    s.apply(2n, command(2n, checkpoint(s.events.last)));
    const after = decodeStateSnapshot(encodeStateSnapshot(s));
    expect(before).toBeGreaterThan(0);
    expect(after.events).toHaveLength(0);
    expect(CoordinatorState.fromSnapshot(after).events.last).toBe(s.events.last);
  });

  it('names what is wrong with a damaged image', () => {
    expect(() => decodeStateSnapshot(new Uint8Array([0xff, 0xff, 0xff]))).toThrow(/not a dtf.state.v1.StateSnapshot/);
    const s = new CoordinatorState();
    s.apply(1n, command(1n, submitJob('j1', [{ id: 't1' }])));
    const img = s.toSnapshot();
    img.pendingTaskIds.push('ghost');
    const { toBinary } = jest.requireActual<typeof import('@bufbuild/protobuf')>('@bufbuild/protobuf');
    const { StateSnapshotSchema } = jest.requireActual<typeof import('../gen/dtf/state/v1/snapshot_pb')>('../gen/dtf/state/v1/snapshot_pb');
    expect(() => decodeStateSnapshot(toBinary(StateSnapshotSchema, img))).toThrow(/task ghost is queued as pending/);
  });
});
