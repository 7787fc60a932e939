import type { Task, Worker } from '../gen/dtf/common/v1/common_pb';
import { infeasibleReason } from './feasibility';

/** A worker the scheduler may push to now, with the credits it granted. */
export interface Candidate {
  worker: Worker;
  credits: number;
}

/** One decision: run this task on this worker. */
export interface Placement {
  task: Task;
  workerId: string;
}

/**
 * Matches pending tasks (in queue order) to workers with credit. A task that
 * fits nowhere is skipped, never blocking the ones behind it. Among feasible
 * workers the one with the most credit left wins, which spreads load.
 * Feasibility is computed once per requirement class and worker per call.
 */
export function placeTasks(pending: Iterable<Task>, candidates: Candidate[]): Placement[] {
  const free = candidates.filter((c) => c.credits > 0).map((c) => ({ ...c }));
  let creditsLeft = free.reduce((n, c) => n + c.credits, 0);
  const placements: Placement[] = [];
  const classCache = new Map<string, typeof free>();
  for (const task of pending) {
    if (creditsLeft === 0) break;
    const cls = requirementClass(task);
    let feasible = classCache.get(cls);
    if (!feasible) {
      feasible = free.filter((c) => infeasibleReason(task.spec?.requirements, c.worker) === undefined);
      classCache.set(cls, feasible);
    }
    let best: (typeof free)[number] | undefined;
    for (const c of feasible) if (c.credits > 0 && (!best || c.credits > best.credits)) best = c;
    if (!best) continue;
    best.credits--;
    creditsLeft--;
    placements.push({ task, workerId: best.worker.id });
  }
  return placements;
}

/** A key equal for tasks whose requirements are equal. */
export function requirementClass(task: Task): string {
  const r = task.spec?.requirements;
  if (!r) return '';
  return JSON.stringify([r.anyOf, r.allOf, r.deviceCount, String(r.deviceMemoryMinBytes), r.cpuCores, String(r.memoryBytes), Object.entries(r.labels).sort()]);
}
