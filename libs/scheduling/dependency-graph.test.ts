import fc from 'fast-check';
import { dependencyCycle, formatCycle } from './dependency-graph';

const seed = Number(process.env.FC_SEED ?? 424242);

describe('dependencyCycle', () => {
  it.each<[string, string[], string[][], string[] | undefined]>([
    ['no tasks', [], [], undefined],
    ['no dependencies', ['a', 'b'], [[], []], undefined],
    ['a chain', ['a', 'b', 'c'], [['b'], ['c'], []], undefined],
    ['a diamond', ['a', 'b', 'c', 'd'], [['b', 'c'], ['d'], ['d'], []], undefined],
    ['a self-dependency', ['a', 'b'], [[], ['b']], ['b', 'b']],
    ['a two-cycle', ['a', 'b'], [['b'], ['a']], ['a', 'b', 'a']],
    ['a three-cycle', ['a', 'b', 'c'], [['b'], ['c'], ['a']], ['a', 'b', 'c', 'a']],
    ['a cycle behind a tail', ['x', 'a', 'b', 'c'], [['a'], ['b'], ['c'], ['b']], ['b', 'c', 'b']],
    ['unknown names ignored', ['a', 'b'], [['zz'], ['a', 'yy']], undefined],
    ['shared names are one node', ['a', 'a', 'b'], [[], ['b'], ['a']], ['a', 'b', 'a']],
    ['missing deps entries are none', ['a', 'b'], [['b']], undefined],
  ])('%s', (_name, names, deps, want) => {
    expect(dependencyCycle(names, deps)).toEqual(want);
  });

  it('walks a 100,000-task chain without overflowing the stack', () => {
    const n = 100_000;
    const names = Array.from({ length: n }, (_, i) => `t${i}`);
    const deps = names.map((_, i) => (i + 1 < n ? [`t${i + 1}`] : []));
    expect(dependencyCycle(names, deps)).toBeUndefined();
    deps[n - 1] = ['t0'];
    expect(dependencyCycle(names, deps)).toHaveLength(n + 1);
  });

  it('formats a cycle with arrows', () => {
    expect(formatCycle(['a', 'b', 'c', 'a'])).toBe('a → b → c → a');
  });

  it('finds a cycle exactly when a topological order does not exist, and every edge it names is real', () => {
    const graph = fc.integer({ min: 1, max: 8 }).chain((n) =>
      fc.tuple(fc.constant(n), fc.array(fc.array(fc.nat(n - 1), { maxLength: 3 }), { minLength: n, maxLength: n })));
    fc.assert(fc.property(graph, ([n, edges]) => {
      const names = Array.from({ length: n }, (_, i) => `t${i}`);
      const deps = edges.map((e) => e.map((j) => `t${j}`));
      // Kahn's algorithm: the naive reference.
      const indegree = names.map(() => 0);
      edges.forEach((e) => e.forEach((j) => indegree[j]++));
      const ready = names.map((_, i) => i).filter((i) => indegree[i] === 0);
      let seen = 0;
      while (ready.length > 0) {
        const i = ready.pop()!;
        seen++;
        for (const j of edges[i]) if (--indegree[j] === 0) ready.push(j);
      }
      const cycle = dependencyCycle(names, deps);
      expect(cycle !== undefined).toBe(seen < n);
      if (cycle) {
        expect(cycle[0]).toBe(cycle[cycle.length - 1]);
        for (let k = 0; k + 1 < cycle.length; k++) expect(deps[names.indexOf(cycle[k])]).toContain(cycle[k + 1]);
      }
    }), { seed, numRuns: 1000 });
  });
});
