import type { Task } from '../gen/dtf/common/v1/common_pb';

/**
 * Pending tasks by priority (highest first), first-in first-out within a
 * priority. Adding and removing are O(1) apart from a new priority level.
 */
export class PendingQueue {
  private readonly levels = new Map<number, Map<string, Task>>();
  private order: number[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(task: Task): void {
    const p = task.spec?.priority ?? 0;
    let level = this.levels.get(p);
    if (!level) {
      level = new Map();
      this.levels.set(p, level);
      this.order = [...this.levels.keys()].sort((a, b) => b - a);
    }
    if (!level.has(task.id)) {
      level.set(task.id, task);
      this.count++;
    }
  }

  remove(task: Task): void {
    const p = task.spec?.priority ?? 0;
    const level = this.levels.get(p);
    if (level?.delete(task.id)) this.count--;
  }

  /** Pending tasks in the order they should be considered. */
  *inOrder(): IterableIterator<Task> {
    for (const p of this.order) {
      const level = this.levels.get(p);
      if (level) yield* level.values();
    }
  }
}
