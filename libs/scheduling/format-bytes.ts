const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/**
 * How a size that is not a whole number of units is shown: to the nearest
 * tenth, or down (up) to a tenth so it is never shown larger (smaller) than
 * it is. A shortfall shows "has" rounded down and "needs" rounded up, so it
 * never reads "40.0GiB < 40GiB".
 */
export type Rounding = 'nearest' | 'down' | 'up';

/** Formats a byte count for people: 42949672960n → "40GiB". */
export function formatBytes(bytes: bigint | number, rounding: Rounding = 'nearest'): string {
  let v = Number(bytes);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  if (rounding === 'down') v = Math.floor(v * 10) / 10;
  if (rounding === 'up') v = Math.ceil(v * 10) / 10;
  return `${Number.isInteger(v) ? v : v.toFixed(1)}${units[i]}`;
}
