import * as net from 'node:net';

/**
 * A TCP port free right now on 127.0.0.1, for an address that must be known
 * before its server starts (a cluster member's peers, a child's listen flag).
 * Another process may take it before it is used; callers that can listen on
 * port 0 should.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
