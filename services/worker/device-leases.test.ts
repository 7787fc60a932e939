import { create } from '@bufbuild/protobuf';
import { DeviceKind, DeviceSchema, RequirementsSchema, type Device } from '../../libs/gen/dtf/common/v1/common_pb';
import { DeviceLeases } from './device-leases';

const GiB = 1n << 30n;
const { CPU, CUDA, ROCM, MPS } = DeviceKind;
const dev = (kind: DeviceKind, index: number, memGiB = 80): Device => create(DeviceSchema, { kind, index, memoryBytes: BigInt(memGiB) * GiB });
const req = (init: Parameters<typeof create<typeof RequirementsSchema>>[1]) => create(RequirementsSchema, init);

describe('DeviceLeases', () => {
  it('gives concurrent attempts different cards, lowest index first, and reuses a released one', () => {
    const leases = new DeviceLeases([dev(CPU, 0), dev(CUDA, 1), dev(CUDA, 0)]);
    const gpu = req({ anyOf: [CUDA] });
    const a = leases.take(gpu);
    const b = leases.take(gpu);
    expect(leases.env(a)).toEqual({ CUDA_VISIBLE_DEVICES: '0', DTF_DEVICES: 'cuda:0' });
    expect(leases.env(b)).toEqual({ CUDA_VISIBLE_DEVICES: '1', DTF_DEVICES: 'cuda:1' });
    expect([a.shared, b.shared]).toEqual([false, false]);
    leases.release(a);
    expect(leases.env(leases.take(gpu)).CUDA_VISIBLE_DEVICES).toBe('0');
  });

  it('hides every card from an attempt that holds none, and sets nothing on a machine without accelerators', () => {
    const gpuBox = new DeviceLeases([dev(CUDA, 0), dev(ROCM, 0)]);
    expect(gpuBox.env(gpuBox.take(undefined))).toEqual({ CUDA_VISIBLE_DEVICES: '', HIP_VISIBLE_DEVICES: '', DTF_DEVICES: '' });
    const cpuBox = new DeviceLeases([dev(CPU, 0)]);
    expect(cpuBox.env(cpuBox.take(req({ cpuCores: 2 })))).toEqual({});
  });

  it('holds device_count cards and takes the first any-of kind with enough free, then one of each all-of kind', () => {
    const leases = new DeviceLeases([dev(CUDA, 0), dev(CUDA, 1), dev(ROCM, 0), dev(ROCM, 1), dev(ROCM, 2), dev(MPS, 0)]);
    const two = leases.take(req({ anyOf: [CUDA, ROCM], deviceCount: 2 }));
    expect(leases.env(two)).toMatchObject({ CUDA_VISIBLE_DEVICES: '0,1', HIP_VISIBLE_DEVICES: '' });
    // CUDA is used up, so the next pair comes from ROCm; the all-of MPS device is named in DTF_DEVICES.
    const next = leases.take(req({ anyOf: [CUDA, ROCM], deviceCount: 2, allOf: [MPS] }));
    expect(leases.env(next)).toEqual({ CUDA_VISIBLE_DEVICES: '', HIP_VISIBLE_DEVICES: '0,1', DTF_DEVICES: 'rocm:0,rocm:1,mps:0' });
  });

  it('picks cards inside the memory range on a machine with mixed cards', () => {
    const leases = new DeviceLeases([dev(CUDA, 0, 24), dev(CUDA, 1, 80), dev(CUDA, 2, 80)]);
    expect(leases.env(leases.take(req({ anyOf: [CUDA], deviceMemoryMinBytes: 40n * GiB }))).CUDA_VISIBLE_DEVICES).toBe('1');
    expect(leases.env(leases.take(req({ anyOf: [CUDA], deviceMemoryMaxBytes: 32n * GiB }))).CUDA_VISIBLE_DEVICES).toBe('0');
  });

  it('still starts an attempt when too few cards are free, on the least-held one, and says it shares', () => {
    const leases = new DeviceLeases([dev(CUDA, 0), dev(CUDA, 1)]);
    const gpu = req({ anyOf: [CUDA] });
    leases.take(gpu);
    leases.take(gpu);
    leases.take(gpu); // now card 0 has two holders, card 1 one
    const fourth = leases.take(gpu);
    expect(fourth.shared).toBe(true);
    expect(leases.env(fourth).CUDA_VISIBLE_DEVICES).toBe('1');
    // Asking for more cards than the machine has gives all it has, never one twice.
    const greedy = leases.take(req({ anyOf: [CUDA], deviceCount: 3 }));
    expect(leases.env(greedy).CUDA_VISIBLE_DEVICES.split(',').sort()).toEqual(['0', '1']);
    expect(greedy.shared).toBe(true);
  });
});
