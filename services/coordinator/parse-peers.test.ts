import { parseAddress, parsePeers } from './parse-peers';

describe('parsePeers', () => {
  it('reads id=host:port pairs', () => {
    expect([...parsePeers('1=127.0.0.1:7001, 2=localhost:7002,3=[::1]:7003')]).toEqual([
      [1, '127.0.0.1:7001'],
      [2, 'localhost:7002'],
      [3, '[::1]:7003'],
    ]);
  });

  it.each([
    ['', /--peers is empty/],
    ['127.0.0.1:7001', /is not id=host:port/],
    ['0=127.0.0.1:7001', /"0" in "0=127.0.0.1:7001" is not a member id/],
    ['x=127.0.0.1:7001', /"x" .* is not a member id/],
    ['1=127.0.0.1:7001,1=127.0.0.1:7002', /member 1 is listed twice/],
    ['1=127.0.0.1:7001,2=127.0.0.1:7001', /listed for two members/],
    ['1=127.0.0.1', /member 1: "127.0.0.1" is not host:port/],
    ['1=127.0.0.1:99999', /port from 1 to 65535/],
  ])('refuses %j', (text, err) => {
    expect(() => parsePeers(text)).toThrow(err);
  });

  it('checks single addresses', () => {
    expect(parseAddress('10.0.0.1:80')).toBe('10.0.0.1:80');
    expect(() => parseAddress('nope')).toThrow(/not host:port/);
  });
});
