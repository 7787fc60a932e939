import { DeviceKind } from '../gen/dtf/common/v1/common_pb';
import { emptyResources, freeInto, subtract, type Resources } from './resources';

const res = (cpu: number, memory: number, devices: [DeviceKind, number][] = []): Resources => ({ cpu, memory, devices: new Map(devices) });

describe('freeInto', () => {
  it('writes capacity - used - held into the value it is given, as subtract would', () => {
    const capacity = res(8, 1000, [[DeviceKind.CUDA, 4]]);
    const used = res(2, 100, [[DeviceKind.CUDA, 1]]);
    const held = res(1, 50, [[DeviceKind.CUDA, 2]]);
    const out = emptyResources();
    expect(freeInto(out, capacity, used, held)).toBe(out);
    expect(out).toEqual(subtract(subtract(capacity, used), held));
    expect(out.devices.get(DeviceKind.CUDA)).toBe(1);
    // The inputs are left as they were.
    expect(capacity.devices.get(DeviceKind.CUDA)).toBe(4);
    expect(freeInto(out, capacity, used, undefined)).toEqual(subtract(capacity, used));
  });

  it('shares one empty device map when nothing has devices, and a fresh one otherwise', () => {
    const a = freeInto(emptyResources(), res(4, 10), res(1, 1), undefined);
    const b = freeInto(emptyResources(), res(2, 10), res(0, 0), res(1, 1));
    expect(a).toEqual(res(3, 9));
    expect(b).toEqual(res(1, 9));
    expect(a.devices).toBe(b.devices);
    const gpu = freeInto(emptyResources(), res(4, 10, [[DeviceKind.ROCM, 2]]), res(0, 0), undefined);
    expect(gpu.devices).not.toBe(a.devices);
  });
});
