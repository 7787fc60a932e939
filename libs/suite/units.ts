/**
 * Sizes and durations as people write them in suite files. Both parsers
 * return `undefined` for text they do not accept, so the caller can say
 * where the value was and what to write instead.
 */

const sizeUnits: Record<string, number> = {
  B: 1,
  KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40,
  KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12,
};

// An optional ">=" reads naturally for minimums ("gpu_memory: >=40GiB") and means the same.
const sizePattern = /^\s*(?:>=\s*)?(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB|KB|MB|GB|TB)\s*$/;

/** Parses `8GiB`, `1.5 MiB`, `>=40GiB`, `500MB`; a bare non-negative integer is bytes. */
export function parseSize(value: unknown): bigint | undefined {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? BigInt(value) : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const m = sizePattern.exec(value);
  if (!m) return undefined;
  const bytes = Math.round(Number(m[1]) * sizeUnits[m[2]]);
  return Number.isSafeInteger(bytes) ? BigInt(bytes) : undefined;
}

const durationUnitsMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const durationPart = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const durationPattern = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;

/** Parses `500ms`, `30s`, `10m`, `1h30m`; a bare number is seconds. Returns milliseconds. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (!durationPattern.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(durationPart)) ms += Number(m[1]) * durationUnitsMs[m[2]];
  return Math.round(ms);
}
