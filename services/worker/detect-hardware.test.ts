import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DeviceKind } from '../../libs/gen/dtf/common/v1/common_pb';
import { detectHardware, findExecutable } from './detect-hardware';

describe('detectHardware', () => {
  let dir: string;
  const savedPath = process.env.PATH;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dtf-hw-'));
  });
  afterEach(async () => {
    process.env.PATH = savedPath;
    await rm(dir, { recursive: true, force: true });
  });

  async function script(name: string, body: string): Promise<string> {
    const file = path.join(dir, name);
    await writeFile(file, `#!/bin/sh\n${body}\n`);
    await chmod(file, 0o755);
    return file;
  }

  it('reports the host, one CPU device, and two CUDA devices from a fake nvidia-smi first on PATH', async () => {
    // The fake checks it was asked for exactly the columns the parser reads.
    await script(
      'nvidia-smi',
      `[ "$1" = "--query-gpu=index,name,memory.total,driver_version" ] || { echo "bad args: $*" >&2; exit 2; }
printf '0, NVIDIA H200, 143771, 550.54.15\\n1, NVIDIA H200, 143771, 550.54.15\\n'`,
    );
    process.env.PATH = `${dir}${path.delimiter}${savedPath ?? ''}`;
    const warnings: string[] = [];
    const hw = await detectHardware({ onWarning: (m) => warnings.push(m) });

    expect(warnings.filter((w) => w.includes('nvidia-smi'))).toEqual([]);
    expect(hw.hostname).toBe(os.hostname());
    expect(hw.os.startsWith(process.platform)).toBe(true);
    expect(hw.cpuCores).toBeGreaterThan(0);
    expect(hw.memoryBytes).toBeGreaterThan(0n);
    const cpus = hw.devices.filter((d) => d.kind === DeviceKind.CPU);
    expect(cpus).toHaveLength(1);
    expect(cpus[0].memoryBytes).toBe(hw.memoryBytes);
    const cuda = hw.devices.filter((d) => d.kind === DeviceKind.CUDA);
    expect(cuda.map((d) => [d.index, d.model, d.memoryBytes, d.driver])).toEqual([
      [0, 'NVIDIA H200', 143771n * 1048576n, '550.54.15'],
      [1, 'NVIDIA H200', 143771n * 1048576n, '550.54.15'],
    ]);
  });

  it('warns about a vendor tool that fails and still returns the CPU', async () => {
    const nvidia = await script('broken-nvidia-smi', 'echo "NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver" >&2; exit 9');
    const warnings: string[] = [];
    const hw = await detectHardware({ nvidiaSmi: nvidia, rocmSmi: path.join(dir, 'absent'), onWarning: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(nvidia);
    expect(warnings[0]).toContain('could not communicate with the NVIDIA driver');
    expect(hw.devices.filter((d) => d.kind === DeviceKind.CUDA)).toEqual([]);
    expect(hw.devices.filter((d) => d.kind === DeviceKind.CPU)).toHaveLength(1);
  });

  it('is silent when the tools are missing', async () => {
    const warnings: string[] = [];
    const hw = await detectHardware({ nvidiaSmi: 'dtf-no-such-nvidia-smi', rocmSmi: 'dtf-no-such-rocm-smi', onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([]);
    expect(hw.devices.map((d) => d.kind)).toEqual([DeviceKind.CPU]);
  });

  it('reads ROCm devices from rocm-smi', async () => {
    const rocm = await script('rocm-smi', `echo '{"card0": {"Card series": "AMD Instinct MI210", "VRAM Total Memory (B)": "68702699520"}, "system": {"Driver version": "6.3.6"}}'`);
    const hw = await detectHardware({ nvidiaSmi: 'dtf-no-such-nvidia-smi', rocmSmi: rocm });
    const amd = hw.devices.filter((d) => d.kind === DeviceKind.ROCM);
    expect(amd.map((d) => [d.index, d.model, d.memoryBytes, d.driver])).toEqual([[0, 'AMD Instinct MI210', 68702699520n, '6.3.6']]);
  });
});

describe('findExecutable', () => {
  it('finds an executable on PATH and ignores a non-executable file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dtf-path-'));
    try {
      await writeFile(path.join(dir, 'tool'), '#!/bin/sh\n');
      expect(await findExecutable('tool', dir)).toBeUndefined();
      await chmod(path.join(dir, 'tool'), 0o755);
      expect(await findExecutable('tool', `/nonexistent${path.delimiter}${dir}`)).toBe(path.join(dir, 'tool'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
