import { AsyncQueue } from './async-queue';

describe('AsyncQueue', () => {
  it('delivers pushed items in order and ends', async () => {
    const q = new AsyncQueue<number>();
    const seen: number[] = [];
    const reader = (async () => {
      for await (const n of q) seen.push(n);
    })();
    q.push(1);
    q.push(2);
    await new Promise((r) => setImmediate(r));
    q.push(3);
    q.end();
    await reader;
    expect(seen).toEqual([1, 2, 3]);
    expect(q.push(4)).toBe(false);
  });

  it('ends the iteration with the error given to fail', async () => {
    const q = new AsyncQueue<number>();
    q.push(1);
    q.fail(new Error('boom'));
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const n of q) seen.push(n);
      })(),
    ).rejects.toThrow('boom');
    expect(seen).toEqual([1]);
  });
});
