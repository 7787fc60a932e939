/**
 * A push-to-pull bridge: producers `push`, one consumer iterates. Used for
 * the outgoing side of streams, where messages are produced by events rather
 * than by a loop. `end` finishes the iteration; `fail` ends it with an error.
 *
 * The iterator is written out rather than an async generator: a generator
 * pays several promise turns per item, which on a coordinator's worker
 * streams was a measurable share of the CPU. A consumer that can take items
 * in bulk (the gRPC server's writer) uses `takeAll` and `ready` instead.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private head = 0;
  private waiter: (() => void) | undefined;
  private done = false;
  private error: unknown;

  get closed(): boolean {
    return this.done;
  }

  get length(): number {
    return this.items.length - this.head;
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

  /** Everything waiting, in order, taken out of the queue. */
  takeAll(): T[] {
    const all = this.head === 0 ? this.items : this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return all;
  }

  /**
   * Resolves when there is something to take or the queue has ended; rejects
   * with the `fail` error once nothing is left before it.
   */
  ready(): Promise<void> {
    if (this.length > 0) return Promise.resolve();
    if (this.done) return this.error !== undefined ? Promise.reject(this.error) : Promise.resolve();
    return new Promise<void>((r) => (this.waiter = r)).then(() => this.ready());
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private next(): Promise<IteratorResult<T>> {
    if (this.head < this.items.length) {
      const value = this.items[this.head];
      this.items[this.head++] = undefined as T;
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.done) return this.error !== undefined ? Promise.reject(this.error) : Promise.resolve({ value: undefined, done: true });
    return new Promise<void>((r) => (this.waiter = r)).then(() => this.next());
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return { next: () => this.next() };
  }
}
