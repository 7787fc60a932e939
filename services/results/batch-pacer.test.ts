import { BatchPacer, batchEventsTarget, batchLingerMs, feedQuietMs } from './batch-pacer';

describe('BatchPacer', () => {
  it('writes a lone event at once, lingers under load, and stops lingering when the feed goes quiet or enough waits', () => {
    let now = 1000;
    const pacer = new BatchPacer(() => now);
    pacer.arrived();
    expect(pacer.delayMs(1)).toBe(0);
    pacer.started();
    now += 5;
    pacer.arrived();
    // Events keep coming: wait for the linger, bounded by the quiet time after the last arrival.
    expect(pacer.delayMs(10)).toBe(Math.min(batchLingerMs - 5, feedQuietMs));
    now += feedQuietMs;
    expect(pacer.delayMs(10)).toBe(0);
    pacer.arrived();
    expect(pacer.delayMs(batchEventsTarget)).toBe(0);
  });

  it('writes at once when the feed says the coordinator has gone idle, and lingers again when work resumes', () => {
    let now = 1000;
    const pacer = new BatchPacer(() => now);
    pacer.started();
    now += 5;
    pacer.arrived();
    expect(pacer.delayMs(10)).toBeGreaterThan(0);
    expect(pacer.coordinatorIdle).toBe(false);
    pacer.arrived(true);
    expect(pacer.delayMs(10)).toBe(0);
    expect(pacer.coordinatorIdle).toBe(true);
    pacer.arrived(false);
    expect(pacer.delayMs(10)).toBeGreaterThan(0);
    expect(pacer.coordinatorIdle).toBe(false);
  });
});
