import { IndexedHeap } from './indexed-heap';

/**
 * A priority queue for keys that mostly arrive in order: a task queue's
 * submission sequence and enqueue time. An item whose key is not below the
 * newest in-order item joins the back of a FIFO; the rest (a retried task,
 * a task freed by its dependencies) go to an {@link IndexedHeap} beside it,
 * and the queue's head is the lesser of the two heads.
 *
 * Push, peek and removal of any item are O(1) for in-order items, O(log h)
 * for the h out-of-order ones: unlike a heap of n items, the cost of a
 * scheduling decision does not grow with the backlog, and a removal does
 * not walk log n levels of objects scattered over a large heap.
 *
 * Removal leaves a hole in the FIFO; holes at either end are dropped at once
 * and the array is compacted when more than half of it is behind the head.
 * As with the heap, the item's position lives on the item under `posKey`:
 * a heap index (≥ 0), -1 when out, or `-2 - n` for FIFO slot n.
 *
 * An item's key must not change while it is queued.
 */
export class MonotoneQueue<T> {
  private fifo: (T | undefined)[] = [];
  /** Index in `fifo` of the first live item (when there is one). */
  private head = 0;
  /** The slot number of `fifo[0]`: slot numbers survive compaction. */
  private base = 0;
  private live = 0;
  private readonly heap: IndexedHeap<T>;

  constructor(
    private readonly less: (a: T, b: T) => boolean,
    private readonly posKey: keyof T & string,
  ) {
    this.heap = new IndexedHeap(less, posKey);
  }

  get size(): number {
    return this.live + this.heap.size;
  }

  peek(): T | undefined {
    const f = this.live > 0 ? this.fifo[this.head] : undefined;
    const h = this.heap.peek();
    if (f === undefined) return h;
    if (h === undefined) return f;
    return this.less(h, f) ? h : f;
  }

  push(item: T): void {
    const tail = this.live > 0 ? this.fifo[this.fifo.length - 1] : undefined;
    if (tail !== undefined && this.less(item, tail)) {
      this.heap.push(item);
      return;
    }
    if (this.live === 0) {
      // Start over at the front: nothing live is left behind.
      this.base += this.fifo.length;
      this.fifo = [];
      this.head = 0;
    }
    this.setPos(item, -2 - (this.base + this.fifo.length));
    this.fifo.push(item);
    this.live++;
  }

  pop(): T | undefined {
    const top = this.peek();
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Removes `item` if it is queued here; true when it was. */
  remove(item: T): boolean {
    const i = this.fifoIndex(item);
    if (i < 0) return this.heap.remove(item);
    const fifo = this.fifo;
    fifo[i] = undefined;
    this.setPos(item, -1);
    this.live--;
    if (this.live === 0) {
      this.base += fifo.length;
      this.fifo = [];
      this.head = 0;
      return true;
    }
    if (i === this.head) {
      let h = i + 1;
      while (fifo[h] === undefined) h++;
      this.head = h;
      if (h > 1024 && h * 2 > fifo.length) this.compact();
    }
    if (i === fifo.length - 1) {
      fifo.pop();
      while (fifo[fifo.length - 1] === undefined) fifo.pop();
    }
    return true;
  }

  has(item: T): boolean {
    return this.fifoIndex(item) >= 0 || this.heap.has(item);
  }

  /** All items, in no particular order. */
  values(): T[] {
    const out: T[] = [];
    for (let i = this.head; i < this.fifo.length; i++) {
      const item = this.fifo[i];
      if (item !== undefined) out.push(item);
    }
    return out.concat(this.heap.values());
  }

  /** The FIFO index of `item`, or -1 when it is not in the FIFO. */
  private fifoIndex(item: T): number {
    const p = item[this.posKey] as unknown;
    if (typeof p !== 'number' || p > -2) return -1;
    const i = -2 - p - this.base;
    return i >= this.head && i < this.fifo.length && this.fifo[i] === item ? i : -1;
  }

  /** Drops the slots behind the head; slot numbers (and so positions) stay valid. */
  private compact(): void {
    this.fifo = this.fifo.slice(this.head);
    this.base += this.head;
    this.head = 0;
  }

  private setPos(item: T, p: number): void {
    (item as Record<string, unknown>)[this.posKey] = p;
  }
}
