import { DeviceKind } from '../../libs/gen/dtf/common/v1/common_pb';
import { parseNvidiaSmi } from './parse-nvidia-smi';

describe('parseNvidiaSmi', () => {
  it('parses one device per line, converting MiB to bytes', () => {
    const out = '0, NVIDIA H200, 143771, 550.54.15\n1, NVIDIA A100-SXM4-40GB, 40960, 550.54.15\n';
    const devices = parseNvidiaSmi(out);
    expect(devices.map((d) => [d.kind, d.index, d.model, d.memoryBytes, d.driver])).toEqual([
      [DeviceKind.CUDA, 0, 'NVIDIA H200', 143771n * 1048576n, '550.54.15'],
      [DeviceKind.CUDA, 1, 'NVIDIA A100-SXM4-40GB', 40960n * 1048576n, '550.54.15'],
    ]);
  });

  it('returns no devices for empty output', () => {
    expect(parseNvidiaSmi('\n')).toEqual([]);
  });

  it('keeps a name that contains a comma and reads [N/A] memory as 0', () => {
    const [d] = parseNvidiaSmi('3, GRID T4-8Q, rev 2, [N/A], 470.82\r\n');
    expect(d.index).toBe(3);
    expect(d.model).toBe('GRID T4-8Q, rev 2');
    expect(d.memoryBytes).toBe(0n);
    expect(d.driver).toBe('470.82');
  });

  it('names the line that does not fit', () => {
    expect(() => parseNvidiaSmi('0, H200, 1, 550\nNVIDIA-SMI has failed\n')).toThrow(
      'nvidia-smi output line 2: expected "index, name, memory.total, driver_version"',
    );
    expect(() => parseNvidiaSmi('x, H200, 1, 550')).toThrow('index "x" is not a whole number');
  });
});
