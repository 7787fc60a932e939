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

const sizePattern = /^\s*(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB|KB|MB|GB|TB)\s*$/;

/** Parses `8GiB`, `1.5 MiB`, `>=40GiB`, `500MB`; a bare non-negative integer is bytes. */
export function parseSize(value: unknown): bigint | undefined {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? BigInt(value) : undefined;
  }
  if (typeof value !== 'string') return undefined;
  // An optional ">=" reads naturally for minimums ("memory: >=8GiB") and means the same.
  return strictSize(value.replace(/^\s*>=/, ''));
}

function strictSize(text: string): bigint | undefined {
  const m = sizePattern.exec(text);
  if (!m) return undefined;
  const bytes = Math.round(Number(m[1]) * sizeUnits[m[2]]);
  return Number.isSafeInteger(bytes) ? BigInt(bytes) : undefined;
}

/** A range of sizes in bytes; `max` zero means no maximum (as in `Requirements`). */
export interface SizeRange {
  min: bigint;
  max: bigint;
}

/**
 * Parses a size range: `>=40GiB` or a bare size (at least), `<=80GiB` (at
 * most), `40GiB..80GiB` (both ends included); a bare integer is a minimum in
 * bytes. An empty range (minimum over maximum, or a zero maximum) is not a
 * range: {@link sizeRangeMistake} says why.
 */
export function parseSizeRange(value: unknown): SizeRange | undefined {
  const r = readSizeRange(value);
  return r && sizeRangeMistake(value) === undefined ? { min: r.min, max: r.max } : undefined;
}

/** Why a value that reads as a size range still is not one, or undefined. */
export function sizeRangeMistake(value: unknown): string | undefined {
  const r = readSizeRange(value);
  if (!r) return undefined;
  if (r.hasMax && r.max === 0n) return 'a maximum of 0 admits nothing; give a size above 0';
  if (r.hasMax && r.min > r.max) return 'the minimum is above the maximum; write the smaller size first';
  return undefined;
}

function readSizeRange(value: unknown): (SizeRange & { hasMax: boolean }) | undefined {
  if (typeof value !== 'string') {
    const min = parseSize(value);
    return min === undefined ? undefined : { min, max: 0n, hasMax: false };
  }
  const dots = /^(.*?)\.\.(.*)$/.exec(value);
  if (dots) {
    const [min, max] = [strictSize(dots[1]), strictSize(dots[2])];
    return min === undefined || max === undefined ? undefined : { min, max, hasMax: true };
  }
  const atMost = /^\s*<=(.*)$/.exec(value);
  if (atMost) {
    const max = strictSize(atMost[1]);
    return max === undefined ? undefined : { min: 0n, max, hasMax: true };
  }
  const min = parseSize(value);
  return min === undefined ? undefined : { min, max: 0n, hasMax: false };
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
