/**
 * The dependency graph of one job's tasks: an edge from each task to each
 * task it depends on (`depends_on`). A job is runnable only if the graph is
 * acyclic, so a submission is checked once, up front.
 */

/** Dependency edges one job may hold in all: a matrix fan-in is wide, but not quadratic. */
export const dependencyEdgesMax = 100_000;

/**
 * A dependency cycle among the tasks, or undefined when there is none. Task
 * `i` is named `names[i]` and depends on the tasks named in `deps[i]`; names
 * not in `names` are ignored (they are reported elsewhere), and tasks sharing
 * a name are one node. The cycle is returned as the names along it, the
 * first repeated at the end: `['a', 'b', 'c', 'a']` means a depends on b, b
 * on c and c on a; a task depending on itself is `['a', 'a']`. The search is
 * depth-first from the first task in order, without recursion (a chain of
 * 10,000 tasks would overflow the stack), so the answer is deterministic.
 * Cost: O(tasks + edges).
 */
export function dependencyCycle(names: readonly string[], deps: readonly (readonly string[])[]): string[] | undefined {
  const index = new Map<string, number>();
  for (const n of names) if (!index.has(n)) index.set(n, index.size);
  const edges: number[][] = Array.from({ length: index.size }, () => []);
  names.forEach((n, i) => {
    const from = edges[index.get(n)!];
    for (const d of deps[i] ?? []) {
      const to = index.get(d);
      if (to !== undefined) from.push(to);
    }
  });
  const nodeNames = [...index.keys()];
  // 0: not seen, 1: on the current path, 2: done (no cycle through it).
  const color = new Uint8Array(index.size);
  const path: number[] = [];
  const next: number[] = [];
  for (let root = 0; root < index.size; root++) {
    if (color[root] !== 0) continue;
    path.push(root);
    next.push(0);
    color[root] = 1;
    while (path.length > 0) {
      const top = path.length - 1;
      const node = path[top];
      if (next[top] === edges[node].length) {
        color[node] = 2;
        path.pop();
        next.pop();
        continue;
      }
      const to = edges[node][next[top]++];
      if (color[to] === 1) {
        const cycle = path.slice(path.indexOf(to)).map((i) => nodeNames[i]);
        return [...cycle, nodeNames[to]];
      }
      if (color[to] === 0) {
        color[to] = 1;
        path.push(to);
        next.push(0);
      }
    }
  }
  return undefined;
}

/** Writes a cycle from {@link dependencyCycle} for people: `a → b → c → a`. */
export function formatCycle(cycle: readonly string[]): string {
  return cycle.join(' → ');
}
