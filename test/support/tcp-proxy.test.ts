import * as net from 'node:net';
import { TcpProxy } from './tcp-proxy';

/** An echo server and a client through a proxy in front of it. */
async function setup(): Promise<{ proxy: TcpProxy; server: net.Server; connect: () => Promise<net.Socket> }> {
  const server = net.createServer((s) => {
    s.on('error', () => {}); // Resets are the point of some tests.
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const proxy = await new TcpProxy('test', { host: '127.0.0.1', port }, () => 0.5).listen();
  const connect = () =>
    new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(proxy.port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
  return { proxy, server, connect };
}

/** What comes back within `ms` after writing `text`. */
function echo(s: net.Socket, text: string, ms: number): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const onData = (d: Buffer) => (got += d.toString());
    s.on('data', onData);
    s.write(text);
    setTimeout(() => {
      s.off('data', onData);
      resolve(got);
    }, ms);
  });
}

describe('TcpProxy', () => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeEach(async () => {
    env = await setup();
  });
  afterEach(async () => {
    await env.proxy.close();
    env.server.close();
  });

  it('passes bytes both ways, and passes none while blackholed', async () => {
    const s = await env.connect();
    expect(await echo(s, 'one', 100)).toBe('one');
    env.proxy.blackhole(true);
    expect(await echo(s, 'two', 200)).toBe('');
    env.proxy.blackhole(false);
    expect(await echo(s, 'three', 100)).toBe('three');
    s.destroy();
  });

  it('delays each chunk, keeping the order', async () => {
    env.proxy.faults.delayMs = 150;
    const s = await env.connect();
    expect(await echo(s, 'a', 100)).toBe('');
    expect(await echo(s, 'b', 400)).toBe('ab');
    s.destroy();
  });

  it('resets open connections and drops new ones at the drop rate', async () => {
    const s = await env.connect();
    const closed = new Promise<string>((r) => s.once('error', (e: NodeJS.ErrnoException) => r(e.code ?? '')));
    env.proxy.reset();
    expect(await closed).toBe('ECONNRESET');
    env.proxy.faults.dropRate = 1;
    const dropped = await env.connect().then(
      (t) => echo(t, 'x', 200).then((got) => `answered "${got}"`),
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(dropped).toMatch(/ECONNRESET|answered ""/);
  });
});
