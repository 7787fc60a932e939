const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Formats a byte count for people: 42949672960n → "40GiB". */
export function formatBytes(bytes: bigint | number): string {
  let v = Number(bytes);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)}${units[i]}`;
}
