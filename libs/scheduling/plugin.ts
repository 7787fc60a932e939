import type { Requirements, Task, Worker } from '../gen/dtf/common/v1/common_pb';
import type { Verdict } from '../gen/dtf/scheduler/v1/scheduler_service_pb';

/** Why a worker cannot take a task: a verdict for machines, a reason for people. */
export interface Refusal {
  verdict: Verdict;
  reason: string;
}

/**
 * A feasibility checker: can this worker ever run tasks with these
 * requirements? It must look only at the requirements and the worker's
 * static facts (hardware, labels), never at load or time: the scheduler
 * caches its answer per requirement class and worker.
 */
export interface FeasibilityChecker {
  name: string;
  check(req: Requirements | undefined, worker: Worker): Refusal | undefined;
}

/** What a ranker may know about a worker's room right now. */
export interface WorkerRoom {
  /** Free slots (credits) after the placements made so far this round. */
  slots: number;
  /** Fraction of the worker's CPU cores, memory and devices in use, 0..1. */
  utilisation: number;
}

/**
 * A ranker scores a feasible worker for a task; higher is better. Scores of
 * all rankers are added, and the highest total wins (ties: the worker id).
 */
export interface Ranker {
  name: string;
  score(task: Task, worker: Worker, room: WorkerRoom): number;
}

/** What a site's plug-in module exports (as `default` or as the module itself). */
export interface SchedulerPlugin {
  name: string;
  checkers?: FeasibilityChecker[];
  rankers?: Ranker[];
}
