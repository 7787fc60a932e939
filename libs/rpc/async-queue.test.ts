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

  it('hands over everything waiting at once to a bulk consumer, then its end or error', async () => {
    const q = new AsyncQueue<number>();
    const ready = q.ready();
    q.push(1);
    q.push(2);
    await ready;
    expect(q.takeAll()).toEqual([1, 2]);
    expect(q.length).toBe(0);
    q.push(3);
    q.fail(new Error('boom'));
    await q.ready();
    expect(q.takeAll()).toEqual([3]);
    await expect(q.ready()).rejects.toThrow('boom');
  });

  it('mixes iteration and bulk taking without losing or repeating an item', async () => {
    const q = new AsyncQueue<number>();
    for (let i = 1; i <= 5; i++) q.push(i);
    const it = q[Symbol.asyncIterator]();
    expect((await it.next()).value).toBe(1);
    expect(q.length).toBe(4);
    expect(q.takeAll()).toEqual([2, 3, 4, 5]);
    q.end();
    expect((await it.next()).done).toBe(true);
  });
});
