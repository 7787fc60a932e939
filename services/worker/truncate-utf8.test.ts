import { tailUtf8, truncateUtf8 } from './truncate-utf8';

describe('truncateUtf8', () => {
  it('never splits a character', () => {
    expect(truncateUtf8('aé', 2)).toBe('a');
    expect(truncateUtf8('aé', 3)).toBe('aé');
    expect(truncateUtf8('😀😀', 5)).toBe('😀');
  });
});

describe('tailUtf8', () => {
  it('keeps the end and never starts inside a character', () => {
    expect(tailUtf8(Buffer.from('abc'), 10)).toBe('abc');
    expect(tailUtf8(Buffer.from('abc'), 2)).toBe('bc');
    expect(tailUtf8(Buffer.from('aé'), 1)).toBe('');
    expect(tailUtf8(Buffer.from('😀x'), 4)).toBe('x');
    expect(tailUtf8(Buffer.from('😀x'), 5)).toBe('😀x');
  });
});
