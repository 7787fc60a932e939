import { fillPlaceholders } from './placeholders';
import { parseDuration, parseSize, parseSizeRange, sizeRangeMistake } from './units';

describe('parseSize', () => {
  it('reads binary and decimal units, a >= prefix, and bare integers as bytes', () => {
    expect(parseSize('40GiB')).toBe(40n * 2n ** 30n);
    expect(parseSize('>=40GiB')).toBe(40n * 2n ** 30n);
    expect(parseSize('1.5 MiB')).toBe(1_572_864n);
    expect(parseSize('500MB')).toBe(500_000_000n);
    expect(parseSize('12B')).toBe(12n);
    expect(parseSize(4096)).toBe(4096n);
  });

  it('refuses what it cannot read exactly', () => {
    for (const bad of ['40G', '40', 'lots', '-1GiB', '40gib', '', 1.5, -1]) expect(parseSize(bad)).toBeUndefined();
  });
});

describe('parseSizeRange', () => {
  const GiB = 2n ** 30n;
  it.each<[unknown, bigint, bigint]>([
    ['40GiB', 40n * GiB, 0n],
    ['>=40GiB', 40n * GiB, 0n],
    ['>= 40GiB', 40n * GiB, 0n],
    ['<=80GiB', 0n, 80n * GiB],
    [' <= 80 GiB ', 0n, 80n * GiB],
    ['40GiB..80GiB', 40n * GiB, 80n * GiB],
    ['40GiB .. 80GiB', 40n * GiB, 80n * GiB],
    ['40GiB..40GiB', 40n * GiB, 40n * GiB],
    ['500MB..1GiB', 500_000_000n, GiB],
    [4096, 4096n, 0n],
  ])('reads %j', (text, min, max) => {
    expect(parseSizeRange(text)).toEqual({ min, max });
    expect(sizeRangeMistake(text)).toBeUndefined();
  });

  it.each(['40G', '>40GiB', '<80GiB', '=40GiB', '40GiB..', '..80GiB', '>=40GiB..80GiB', '40GiB...80GiB', '<=', -1, 1.5, true])('refuses %j', (text) => {
    expect(parseSizeRange(text)).toBeUndefined();
    expect(sizeRangeMistake(text)).toBeUndefined();
  });

  it('explains ranges that read well but admit nothing', () => {
    expect(parseSizeRange('80GiB..40GiB')).toBeUndefined();
    expect(sizeRangeMistake('80GiB..40GiB')).toBe('the minimum is above the maximum; write the smaller size first');
    expect(parseSizeRange('<=0GiB')).toBeUndefined();
    expect(sizeRangeMistake('<=0B')).toBe('a maximum of 0 admits nothing; give a size above 0');
  });
});

describe('parseDuration', () => {
  it('reads ms, s, m, h and compounds; a number is seconds', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration(2.5)).toBe(2500);
  });

  it('refuses unknown units and negative numbers', () => {
    for (const bad of ['10', '10 min', 'forever', '1d', -1]) expect(parseDuration(bad)).toBeUndefined();
  });
});

describe('fillPlaceholders', () => {
  it('fills known names and reports unknown ones', () => {
    expect(fillPlaceholders('a-{x}-{y}', { x: '1' })).toEqual({ text: 'a-1-{y}', unknown: ['y'] });
  });

  it('leaves ${VAR}, non-identifiers and escaped braces for the shell', () => {
    expect(fillPlaceholders('${HOME} {{x}} {print $1} {x}', { x: 'v' }).text).toBe('${HOME} {x} {print $1} v');
  });
});
