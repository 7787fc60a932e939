import fc from 'fast-check';
import { formatBytes } from './format-bytes';

const seed = Number(process.env.FC_SEED ?? 424242);
const unitBytes: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/** Reads a formatted size back as bytes. */
function parse(s: string): number {
  const m = /^(\d+(?:\.\d)?)(B|KiB|MiB|GiB|TiB)$/.exec(s);
  if (!m) throw new Error(`"${s}" is not a formatted size`);
  return Number(m[1]) * unitBytes[m[2]!]!;
}

describe('formatBytes', () => {
  it('uses the largest binary unit and one decimal at most', () => {
    expect(formatBytes(0)).toBe('0B');
    expect(formatBytes(1023)).toBe('1023B');
    expect(formatBytes(1024)).toBe('1KiB');
    expect(formatBytes(1536n)).toBe('1.5KiB');
    expect(formatBytes(42949672960n)).toBe('40GiB');
    expect(formatBytes(5n * 1024n ** 5n)).toBe('5120TiB');
  });

  it('rounds down or up to a tenth when asked, so a shortfall never reads as equal', () => {
    const almost = 40n * 1024n ** 3n - 1n;
    expect(formatBytes(almost)).toBe('40.0GiB');
    expect(formatBytes(almost, 'down')).toBe('39.9GiB');
    expect(formatBytes(40n * 1024n ** 3n + 1n, 'up')).toBe('40.1GiB');
    expect(formatBytes(40n * 1024n ** 3n, 'up')).toBe('40GiB');
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 1n << 45n }), fc.bigInt({ min: 1n, max: 1n << 45n }), (has, extra) => {
        const needs = has + extra;
        const shownHas = formatBytes(has, 'down');
        const shownNeeds = formatBytes(needs, 'up');
        expect(parse(shownHas)).toBeLessThanOrEqual(Number(has));
        expect(parse(shownNeeds)).toBeGreaterThanOrEqual(Number(needs));
        expect(parse(shownHas)).toBeLessThan(parse(shownNeeds));
        expect(Math.abs(parse(formatBytes(has)) - Number(has))).toBeLessThanOrEqual(Number(has) * 0.05);
      }),
      { seed, numRuns: 500 },
    );
  });
});
