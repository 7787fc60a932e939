import { create } from '@bufbuild/protobuf';
import { DeviceKind, DeviceSchema, type Device } from '../../libs/gen/dtf/common/v1/common_pb';

/**
 * The arguments detectHardware passes to rocm-smi. `--showdriverversion` adds a "system"
 * entry with the driver version; without it the devices would have no driver.
 */
export const rocmSmiArgs: readonly string[] = ['--showproductname', '--showmeminfo', 'vram', '--showdriverversion', '--json'];

/** A machine with more GPUs than this is not real; stop reading rather than grow without bound. */
export const rocmGpuCountMax = 1024;

// rocm-smi has renamed these keys between releases ("Card series" → "Card Series"), so
// lookups are case-insensitive and try several names, most specific first.
const modelKeys = ['card series', 'card sku', 'card model', 'marketing name'];
const memoryKeys = ['vram total memory (b)'];
const driverKeys = ['driver version'];

/**
 * Parses the output of `rocm-smi --showproductname --showmeminfo vram --showdriverversion
 * --json` into ROCm devices, one per `cardN` entry, sorted by N.
 *
 * Defensive by design: rocm-smi's JSON has changed shape between releases and some releases
 * print warnings before it, so text before the first "{" is ignored, unknown keys are ignored,
 * and a card without a readable name or memory size still becomes a device (with "" or 0).
 * Throws an Error only when there is no JSON object to read at all.
 */
export function parseRocmSmi(output: string): Device[] {
  const root = parseJsonObject(output);
  const system = asRecord(root['system']);
  const driver = system ? lookup(system, driverKeys) : '';
  const cards: Array<{ index: number; fields: Record<string, unknown> }> = [];
  for (const [key, value] of Object.entries(root)) {
    const match = /^card(\d+)$/i.exec(key);
    const fields = asRecord(value);
    if (!match || !fields) continue;
    cards.push({ index: Number(match[1]), fields });
    if (cards.length >= rocmGpuCountMax) break;
  }
  cards.sort((a, b) => a.index - b.index);
  return cards.map(({ index, fields }) => {
    const memory = lookup(fields, memoryKeys);
    return create(DeviceSchema, {
      kind: DeviceKind.ROCM,
      index,
      model: lookup(fields, modelKeys),
      memoryBytes: /^\d+$/.test(memory) ? BigInt(memory) : 0n,
      driver: driver || lookup(fields, driverKeys),
    });
  });
}

function parseJsonObject(output: string): Record<string, unknown> {
  const start = output.indexOf('{');
  if (start < 0) {
    throw new Error(`rocm-smi printed no JSON object; got ${JSON.stringify(output.slice(0, 200))}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(output.slice(start));
  } catch (err) {
    throw new Error(`rocm-smi printed invalid JSON: ${(err as Error).message}`);
  }
  const record = asRecord(parsed);
  if (!record) throw new Error('rocm-smi printed JSON that is not an object');
  return record;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** The first of `names` present (case-insensitively) with a non-empty value, as a trimmed string. */
function lookup(fields: Record<string, unknown>, names: readonly string[]): string {
  const lowered = new Map<string, unknown>();
  for (const [k, v] of Object.entries(fields)) lowered.set(k.trim().toLowerCase(), v);
  for (const name of names) {
    const value = lowered.get(name);
    if ((typeof value === 'string' || typeof value === 'number') && String(value).trim() !== '') {
      return String(value).trim();
    }
  }
  return '';
}
