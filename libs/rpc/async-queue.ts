/**
 * A push-to-pull bridge: producers `push`, one consumer iterates. Used for
 * the outgoing side of streams, where messages are produced by events rather
 * than by a loop. `end` finishes the iteration; `fail` ends it with an error.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private waiter: (() => void) | undefined;
  private done = false;
  private error: unknown;

  get closed(): boolean {
    return this.done;
  }

  get length(): number {
    return this.items.length;
  }

  push(item: T): boolean {
    if (this.done) return false;
    this.items.push(item);
    this.wake();
    return true;
  }

  end(): void {
    this.done = true;
    this.wake();
  }

  fail(error: unknown): void {
    this.error = error;
    this.end();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.items.length > 0) {
        const batch = this.items;
        this.items = [];
        yield* batch;
        continue;
      }
      if (this.done) {
        if (this.error !== undefined) throw this.error;
        return;
      }
      await new Promise<void>((r) => (this.waiter = r));
    }
  }
}
