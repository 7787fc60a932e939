import fc from 'fast-check';
import { DeviceKind, WorkerState } from '../gen/dtf/common/v1/common_pb';
import { deviceKindName, infeasibleReason } from './feasibility';
import { GiB, naiveFeasible, req, requirementsArb, worker, workerArb } from './test-workers';

const seed = Number(process.env.FC_SEED ?? 424242);
const { CPU, CUDA, ROCM } = DeviceKind;

const cpuOnly = worker({ id: 'cpu', devices: [[CPU, 0n]] });
const oneA100 = worker({ id: 'a100', devices: [[CPU, 0n], [CUDA, 40n * GiB]] });

describe('infeasibleReason', () => {
  it('never lets a cuda task onto a cpu-only worker', () => {
    expect(infeasibleReason(req({ anyOf: [CUDA] }), cpuOnly)).toBe('no cuda device (has cpu)');
    expect(infeasibleReason(req({ allOf: [CUDA] }), cpuOnly)).toBe('no cuda device');
    expect(infeasibleReason(req({ anyOf: [CUDA] }), worker({ id: 'bare', devices: [] }))).toBe('no cuda device (has none)');
    expect(infeasibleReason(req({ anyOf: [CUDA] }), oneA100)).toBeUndefined();
    expect(infeasibleReason(req({ anyOf: [CUDA, ROCM] }), worker({ id: 'amd', devices: [[ROCM, 64n * GiB]] }))).toBeUndefined();
    expect(infeasibleReason(req({ anyOf: [CUDA, ROCM] }), worker({ id: 'c', devices: [[CPU, 0n], [CPU, 0n]] }))).toBe('no cuda or rocm device (has 2× cpu)');
  });

  it('checks device memory per device, and the device count among big-enough devices', () => {
    expect(infeasibleReason(req({ anyOf: [CUDA], deviceMemoryMinBytes: 80n * GiB }), oneA100)).toBe('device memory 40GiB < 80GiB required');
    expect(infeasibleReason(req({ anyOf: [CUDA], deviceMemoryMinBytes: 40n * GiB }), oneA100)).toBeUndefined();
    expect(infeasibleReason(req({ anyOf: [CUDA], deviceCount: 2 }), oneA100)).toBe('needs 2 devices, has 1');
    const mixed = worker({ id: 'mixed', devices: [[CUDA, 16n * GiB], [CUDA, 40n * GiB], [CUDA, 40n * GiB]] });
    expect(infeasibleReason(req({ anyOf: [CUDA], deviceCount: 3, deviceMemoryMinBytes: 24n * GiB }), mixed)).toBe('needs 3 devices, has 2');
    expect(infeasibleReason(req({ anyOf: [CUDA], deviceCount: 2, deviceMemoryMinBytes: 24n * GiB }), mixed)).toBeUndefined();
  });

  it('never shows a device as big as the requirement it misses', () => {
    // 40 GiB less 1 MiB rounds to "40.0GiB"; the message must not read "40.0GiB < 40GiB".
    const almost = worker({ id: 'almost', devices: [[CUDA, 40n * GiB - 1024n * 1024n]] });
    const why = infeasibleReason(req({ anyOf: [CUDA], deviceMemoryMinBytes: 40n * GiB }), almost);
    expect(why).toBe('device memory 39.9GiB < 40GiB required');
    const small = worker({ id: 'small', memoryBytes: 16n * GiB - 1n });
    expect(infeasibleReason(req({ memoryBytes: 16n * GiB }), small)).toBe('needs 16GiB memory, has 15.9GiB');
  });

  it('checks CPU cores, memory and labels', () => {
    const w = worker({ id: 'w', cpuCores: 4, memoryBytes: 16n * GiB, labels: { os: 'linux', zone: 'a' } });
    expect(infeasibleReason(req({ cpuCores: 8 }), w)).toBe('needs 8 CPU cores, has 4');
    expect(infeasibleReason(req({ cpuCores: 4 }), w)).toBeUndefined();
    expect(infeasibleReason(req({ memoryBytes: 32n * GiB }), w)).toBe('needs 32GiB memory, has 16GiB');
    expect(infeasibleReason(req({ labels: { os: 'linux' } }), w)).toBeUndefined();
    expect(infeasibleReason(req({ labels: { os: 'mac' } }), w)).toBe('label os=linux, needs os=mac');
    expect(infeasibleReason(req({ labels: { gpu: 'yes' } }), w)).toBe('label gpu=yes missing');
    // Labels are data, not object properties.
    expect(infeasibleReason(req({ labels: { constructor: 'x' } }), w)).toBe('label constructor=x missing');
    expect(infeasibleReason(req({ labels: { toString: 'x' } }), w)).toBe('label toString=x missing');
  });

  it('refuses workers that are not online, cordoned or draining, whatever the task needs', () => {
    expect(infeasibleReason(undefined, worker({ id: 'l', state: WorkerState.LOST }))).toBe('not online');
    expect(infeasibleReason(undefined, worker({ id: 'g', state: WorkerState.LEFT }))).toBe('not online');
    expect(infeasibleReason(undefined, worker({ id: 'c', cordoned: true }))).toBe('cordoned');
    expect(infeasibleReason(undefined, worker({ id: 'd', draining: true }))).toBe('draining');
    expect(infeasibleReason(undefined, cpuOnly)).toBeUndefined();
    expect(infeasibleReason(req({}), cpuOnly)).toBeUndefined();
  });

  it('names device kinds the way users write them', () => {
    expect(deviceKindName(CUDA)).toBe('cuda');
    expect(deviceKindName(DeviceKind.WEBGPU)).toBe('webgpu');
    expect(deviceKindName(99 as DeviceKind)).toBe('unspecified');
  });

  it('agrees with a naive reading of the requirement rules', () => {
    fc.assert(
      fc.property(workerArb, requirementsArb, (w, r) => {
        const why = infeasibleReason(r, w);
        expect(why === undefined).toBe(naiveFeasible(r, w));
        if (why !== undefined) expect(why.length).toBeGreaterThan(0);
      }),
      { seed, numRuns: 1000 },
    );
  });
});
