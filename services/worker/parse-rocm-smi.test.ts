import { DeviceKind } from '../../libs/gen/dtf/common/v1/common_pb';
import { parseRocmSmi } from './parse-rocm-smi';

// Shaped like rocm-smi 5.x output for two MI250X dies, keys in the older lower-case spelling.
const rocm5 = JSON.stringify({
  card1: {
    'Card series': 'AMD Instinct MI250X',
    'Card model': '0x740c',
    'Card vendor': 'Advanced Micro Devices, Inc. [AMD/ATI]',
    'Card SKU': 'D65209',
    'VRAM Total Memory (B)': '68702699520',
    'VRAM Total Used Memory (B)': '12582912',
  },
  card0: {
    'Card series': 'AMD Instinct MI250X',
    'VRAM Total Memory (B)': '68702699520',
  },
  system: { 'Driver version': '6.2.4' },
});

describe('parseRocmSmi', () => {
  it('reads one ROCm device per card, sorted by index, with the system driver', () => {
    const devices = parseRocmSmi(rocm5);
    expect(devices.map((d) => [d.kind, d.index, d.model, d.memoryBytes, d.driver])).toEqual([
      [DeviceKind.ROCM, 0, 'AMD Instinct MI250X', 68702699520n, '6.2.4'],
      [DeviceKind.ROCM, 1, 'AMD Instinct MI250X', 68702699520n, '6.2.4'],
    ]);
  });

  it('accepts the newer capitalised keys and warnings printed before the JSON', () => {
    const out = 'WARNING: AMD GPU device(s) is/are in a low-power state. Check power control/runtime_status\n\n' +
      JSON.stringify({ card0: { 'Card Series': 'Radeon PRO W7900', 'VRAM Total Memory (B)': 48301604864 } });
    const [d] = parseRocmSmi(out);
    expect(d.model).toBe('Radeon PRO W7900');
    expect(d.memoryBytes).toBe(48301604864n);
    expect(d.driver).toBe('');
  });

  it('keeps a card with unreadable fields and skips entries that are not cards', () => {
    const out = JSON.stringify({ card2: { 'VRAM Total Memory (B)': 'N/A' }, card3: 'oops', foo: {} });
    const devices = parseRocmSmi(out);
    expect(devices).toHaveLength(1);
    expect(devices[0].index).toBe(2);
    expect(devices[0].model).toBe('');
    expect(devices[0].memoryBytes).toBe(0n);
  });

  it('returns no devices for an empty object', () => {
    expect(parseRocmSmi('{}')).toEqual([]);
  });

  it('throws a clear error when there is no JSON', () => {
    expect(() => parseRocmSmi('ERROR: No AMD GPUs')).toThrow('rocm-smi printed no JSON object');
    expect(() => parseRocmSmi('{"card0": ')).toThrow('rocm-smi printed invalid JSON');
  });
});
