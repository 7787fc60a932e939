/** Weight of the newest observation in the moving average. */
export const durationAlpha = 0.3;
/** Distinct task names remembered at most; the least recently seen are forgotten first. */
export const durationKeysMax = 100_000;

/**
 * Predicts a task's run time from the runs of earlier tasks with the same
 * job and task name: an exponentially weighted moving average of successful
 * attempts. Part of the replicated state, so every replica predicts alike.
 */
export class DurationModel {
  private readonly avg = new Map<string, number>();

  static key(jobName: string, taskName: string): string {
    return `${jobName}\u0000${taskName}`;
  }

  predict(key: string): number | undefined {
    return this.avg.get(key);
  }

  observe(key: string, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    const prev = this.avg.get(key);
    this.avg.delete(key);
    this.avg.set(key, prev === undefined ? ms : prev + durationAlpha * (ms - prev));
    if (this.avg.size > durationKeysMax) this.avg.delete(this.avg.keys().next().value!);
  }

  get size(): number {
    return this.avg.size;
  }

  entries(): IterableIterator<[string, number]> {
    return this.avg.entries();
  }
}
