import { execFile } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { create } from '@bufbuild/protobuf';
import * as si from 'systeminformation';
import { DeviceKind, DeviceSchema, HardwareSchema, type Device, type Hardware } from '../../libs/gen/dtf/common/v1/common_pb';
import { nvidiaSmiArgs, parseNvidiaSmi } from './parse-nvidia-smi';
import { parseRocmSmi, rocmSmiArgs } from './parse-rocm-smi';

/** A vendor tool that hangs (a wedged driver does this) must not stop the worker from starting. */
export const vendorToolTimeoutMs = 15_000;
/** Vendor tools print a few KiB; more than this is not output we can use. */
export const vendorToolOutputBytesMax = 4 * 1024 * 1024;

/** Options for {@link detectHardware}. */
export interface DetectHardwareOptions {
  /** nvidia-smi to run: a name looked up on PATH (the default, "nvidia-smi") or a path. */
  nvidiaSmi?: string;
  /** rocm-smi to run: a name looked up on PATH (the default, "rocm-smi") or a path. */
  rocmSmi?: string;
  /** Told about a vendor tool that was found but failed; its devices are then left out. */
  onWarning?: (message: string) => void;
}

/**
 * Detects this machine's hardware: host, OS, CPU and memory from systeminformation, one
 * DEVICE_KIND_CPU device always, plus CUDA devices from nvidia-smi and ROCm devices from
 * rocm-smi when those tools are on PATH.
 *
 * A missing vendor tool is normal (most machines have none) and is silent. A tool that is
 * present but fails is reported through `onWarning` and skipped, because a worker with a
 * broken driver can still run CPU work.
 */
export async function detectHardware(opts: DetectHardwareOptions = {}): Promise<Hardware> {
  const warn = opts.onWarning ?? (() => undefined);
  const [osInfo, cpu, mem, cuda, rocm] = await Promise.all([
    si.osInfo(),
    si.cpu(),
    si.mem(),
    vendorDevices(opts.nvidiaSmi ?? 'nvidia-smi', nvidiaSmiArgs, parseNvidiaSmi, warn),
    vendorDevices(opts.rocmSmi ?? 'rocm-smi', rocmSmiArgs, parseRocmSmi, warn),
  ]);
  const cpuModel = [cpu.manufacturer, cpu.brand].filter((s) => s && s.trim() !== '').join(' ');
  const memoryBytes = BigInt(Math.max(0, Math.floor(mem.total)));
  const cpuDevice = create(DeviceSchema, { kind: DeviceKind.CPU, model: cpuModel, memoryBytes, index: 0 });
  return create(HardwareSchema, {
    hostname: osInfo.hostname,
    os: describeOs(osInfo.platform, osInfo.distro, osInfo.release),
    arch: osInfo.arch,
    cpuModel,
    // Logical cores: that is what a task sees and what CPU requirements are counted in.
    cpuCores: cpu.cores,
    memoryBytes,
    devices: [cpuDevice, ...cuda, ...rocm],
  });
}

/** "linux (Debian GNU/Linux 12)": the platform first, so a matcher can test its prefix. */
function describeOs(platform: string, distro: string, release: string): string {
  const detail = [distro, release].filter((s) => s && s.trim() !== '' && s !== 'unknown').join(' ');
  return detail ? `${platform} (${detail})` : platform;
}

async function vendorDevices(
  tool: string,
  args: readonly string[],
  parse: (output: string) => Device[],
  warn: (message: string) => void,
): Promise<Device[]> {
  const file = await findExecutable(tool, process.env.PATH ?? '');
  if (!file) return [];
  try {
    return parse(await runTool(file, args));
  } catch (err) {
    warn(`hardware detection: ${file} ${args.join(' ')} failed, so its devices are left out: ${(err as Error).message}`);
    return [];
  }
}

/**
 * Finds `name` the way a shell would: a name with a slash is used as given, anything else is
 * searched for in each PATH directory. Returns undefined when there is no executable file.
 */
export async function findExecutable(name: string, pathEnv: string): Promise<string | undefined> {
  const candidates = name.includes('/') ? [name] : pathEnv.split(path.delimiter).filter((d) => d !== '').map((d) => path.join(d, name));
  for (const candidate of candidates) {
    try {
      await access(candidate, fsConstants.X_OK);
      // Directories pass the X_OK check too.
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // Not here; keep looking.
    }
  }
  return undefined;
}

function runTool(file: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      [...args],
      { timeout: vendorToolTimeoutMs, maxBuffer: vendorToolOutputBytesMax, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) {
          const detail = stderr.trim().slice(0, 500) || stdout.trim().slice(0, 500);
          reject(new Error(detail ? `${err.message.split('\n')[0]}: ${detail}` : err.message));
        } else {
          resolve(stdout);
        }
      },
    );
  });
}
