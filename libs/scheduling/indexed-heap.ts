/**
 * A binary min-heap that knows where each item sits, so an item can be
 * removed or re-keyed in O(log n). The position lives on the item itself,
 * under a property the caller names, so one item can sit in several heaps.
 */
export class IndexedHeap<T> {
  private readonly items: T[] = [];

  constructor(
    private readonly less: (a: T, b: T) => boolean,
    private readonly posKey: keyof T & string,
  ) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    this.items.push(item);
    this.setPos(item, this.items.length - 1);
    this.up(this.items.length - 1);
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top !== undefined) this.removeAt(0);
    return top;
  }

  /** Removes `item` if it is in this heap; true when it was. */
  remove(item: T): boolean {
    const i = this.pos(item);
    if (i < 0 || i >= this.items.length || this.items[i] !== item) return false;
    this.removeAt(i);
    return true;
  }

  has(item: T): boolean {
    const i = this.pos(item);
    return i >= 0 && i < this.items.length && this.items[i] === item;
  }

  /** Restores order after `item`'s key changed. */
  update(item: T): void {
    const i = this.pos(item);
    if (i < 0 || this.items[i] !== item) return;
    this.up(i);
    this.down(this.pos(item));
  }

  /** All items, in no particular order. */
  values(): readonly T[] {
    return this.items;
  }

  private removeAt(i: number): void {
    const item = this.items[i];
    const last = this.items.pop()!;
    this.setPos(item, -1);
    if (i === this.items.length) return;
    this.items[i] = last;
    this.setPos(last, i);
    this.up(i);
    this.down(this.pos(last));
  }

  private up(i: number): void {
    const items = this.items;
    const item = items[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(item, items[parent])) break;
      items[i] = items[parent];
      this.setPos(items[i], i);
      i = parent;
    }
    items[i] = item;
    this.setPos(item, i);
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(items[r], items[l]) ? r : l;
      if (!this.less(items[c], item)) break;
      items[i] = items[c];
      this.setPos(items[i], i);
      i = c;
    }
    items[i] = item;
    this.setPos(item, i);
  }

  private pos(item: T): number {
    const p = item[this.posKey] as unknown;
    return typeof p === 'number' ? p : -1;
  }

  private setPos(item: T, i: number): void {
    (item as Record<string, unknown>)[this.posKey] = i;
  }
}
