import { crc32c } from './crc32c';

describe('crc32c', () => {
  it('matches the published check value for "123456789"', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('is 0 for empty input and can be continued across chunks', () => {
    expect(crc32c(new Uint8Array())).toBe(0);
    const whole = crc32c(Buffer.from('hello world'));
    expect(crc32c(Buffer.from(' world'), crc32c(Buffer.from('hello')))).toBe(whole);
  });
});
