/**
 * Wakes waiters when the state changes. Watchers (WatchJob, TailEvents)
 * await `next()` and then read the state; they never miss a change because
 * they re-read everything newer than what they last sent.
 */
export class ChangeNotifier {
  private waiters: (() => void)[] = [];

  notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves on the next change, or when `signal` aborts, or after `timeoutMs`. */
  next(signal?: AbortSignal, timeoutMs = 15_000): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      this.waiters.push(done);
    });
  }
}
