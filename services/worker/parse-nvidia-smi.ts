import { create } from '@bufbuild/protobuf';
import { DeviceKind, DeviceSchema, type Device } from '../../libs/gen/dtf/common/v1/common_pb';

/** The arguments detectHardware passes to nvidia-smi; parseNvidiaSmi reads exactly these columns. */
export const nvidiaSmiArgs: readonly string[] = [
  '--query-gpu=index,name,memory.total,driver_version',
  '--format=csv,noheader,nounits',
];

/** A machine with more GPUs than this is not real; stop reading rather than grow without bound. */
export const nvidiaGpuCountMax = 1024;

const bytesPerMiB = 1024n * 1024n;

/**
 * Parses the output of `nvidia-smi --query-gpu=index,name,memory.total,driver_version
 * --format=csv,noheader,nounits` into CUDA devices, one per non-empty line.
 *
 * memory.total is in MiB; "[N/A]" (seen on some MIG and vGPU set-ups) becomes 0 bytes. The
 * name is taken as everything between the first and the last two fields, so a name with a
 * comma in it still parses. Throws an Error naming the line when a line does not fit.
 */
export function parseNvidiaSmi(output: string): Device[] {
  const devices: Device[] = [];
  const lines = output.split(/\r?\n/);
  for (let i = 0; i < lines.length && devices.length < nvidiaGpuCountMax; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const fields = line.split(',').map((f) => f.trim());
    if (fields.length < 4) {
      throw new Error(`nvidia-smi output line ${i + 1}: expected "index, name, memory.total, driver_version", got ${JSON.stringify(line)}`);
    }
    const index = Number(fields[0]);
    if (!Number.isInteger(index) || index < 0) {
      throw new Error(`nvidia-smi output line ${i + 1}: index ${JSON.stringify(fields[0])} is not a whole number`);
    }
    const memoryMiB = fields[fields.length - 2];
    devices.push(
      create(DeviceSchema, {
        kind: DeviceKind.CUDA,
        index,
        model: fields.slice(1, -2).join(', '),
        memoryBytes: /^\d+$/.test(memoryMiB) ? BigInt(memoryMiB) * bytesPerMiB : 0n,
        driver: fields[fields.length - 1],
      }),
    );
  }
  return devices;
}
