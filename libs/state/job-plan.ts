import type { Task } from '../gen/dtf/common/v1/common_pb';

/** A task of a job being submitted, as planning sees it. */
export interface PlanTask {
  predictedMs: number;
  /** Indexes of the tasks it depends on. */
  deps: number[];
}

/** Order and timing of a job's tasks, worked out at submission. */
export interface JobPlan {
  /** Task indexes, most remaining work first: what the queue runs first inside the job. */
  order: number[];
  /** Per task: predicted time from the start of the job until it finishes, with unlimited workers. */
  earliestFinishMs: number[];
  /** False when the dependencies form a cycle (then nothing else holds). */
  acyclic: boolean;
}

/** True when some task of the job waits on another (names it in `dependsOn`). */
export function hasDependencies(tasks: readonly Task[]): boolean {
  return tasks.some((t) => (t.spec?.dependsOn.length ?? 0) > 0);
}

/**
 * Plans a job whose dependency graph is acyclic (checked before). Each task's
 * remaining work is its own predicted time plus the longest chain of
 * dependents after it (the critical path), and the longest goes first: that
 * is longest-processing-time-first for independent tasks, and critical-path
 * scheduling for DAGs.
 */
export function planJob(tasks: PlanTask[]): JobPlan {
  return tasks.every((t) => t.deps.length === 0) ? planIndependent(tasks) : planGraph(tasks);
}

/** {@link planJob} through the dependency graph, whatever the job; exported for the test that holds the two paths equal. */
export function planGraph(tasks: PlanTask[]): JobPlan {
  const n = tasks.length;
  const dependents: number[][] = tasks.map(() => []);
  tasks.forEach((t, i) => t.deps.forEach((d) => dependents[d].push(i)));
  const topo = topologicalOrder(tasks, dependents);
  const tail = new Array<number>(n).fill(0);
  for (let k = topo.length - 1; k >= 0; k--) {
    const i = topo[k];
    let after = 0;
    for (const j of dependents[i]) after = Math.max(after, tail[j]);
    tail[i] = tasks[i].predictedMs + after;
  }
  const finish = new Array<number>(n).fill(0);
  for (const i of topo) {
    let start = 0;
    for (const d of tasks[i].deps) start = Math.max(start, finish[d]);
    finish[i] = start + tasks[i].predictedMs;
  }
  const order = [...Array(n).keys()].sort((a, b) => tail[b] - tail[a] || a - b);
  return { order, earliestFinishMs: finish, acyclic: topo.length === n };
}

/**
 * The same plan for a job without dependencies, the common case, without
 * the graph: each task's remaining work is its own predicted time. Building
 * the graph's arrays was most of the allocation in submitting such a job.
 */
function planIndependent(tasks: PlanTask[]): JobPlan {
  const n = tasks.length;
  const finish = new Array<number>(n);
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    finish[i] = tasks[i].predictedMs;
    order[i] = i;
  }
  order.sort((a, b) => finish[b] - finish[a] || a - b);
  return { order, earliestFinishMs: finish, acyclic: true };
}

/** Kahn's algorithm; tasks on a cycle (there should be none) are left out. */
function topologicalOrder(tasks: PlanTask[], dependents: number[][]): number[] {
  const indeg = tasks.map((t) => t.deps.length);
  // The order grows as tasks become ready; reading it front to back is the queue.
  const order = indeg.flatMap((d, i) => (d === 0 ? [i] : []));
  for (let head = 0; head < order.length; head++) {
    for (const j of dependents[order[head]]) if (--indeg[j] === 0) order.push(j);
  }
  return order;
}
