import type { TaskSpec } from '../gen/dtf/common/v1/common_pb';
import { dependencyCycle, dependencyEdgesMax, formatCycle } from '../scheduling/dependency-graph';
import type { MatrixValues } from './matrix';
import { fillPlaceholders } from './placeholders';
import type { SuiteIssue } from './suite-error';
import type { FieldPath, YamlLocator } from './yaml-locator';

/** One task after matrix expansion, with where it came from. */
export interface ExpandedTask {
  spec: TaskSpec;
  /** Its source task's position under `tasks:`. */
  index: number;
  /** The matrix combination it was expanded for. */
  combo: MatrixValues;
}

/** What a source task's `depends_on` says, and where it is written (the task or `defaults:`). */
export interface SourceDependencies {
  /** The source task's name as written, placeholders and all. */
  template: string;
  dependsOn: readonly string[];
  /** The path of the `depends_on` list. */
  path: FieldPath;
}

/**
 * Fills in `depends_on` of every expanded task. Each entry is first filled
 * with the task's own matrix values; if the result is the name of an
 * expanded task, it means that task. Otherwise, if it is a source task's name
 * as written (`build-{os}`), it means every task that one expanded to. So
 * `test-{os}` depending on `build-{os}` waits for the build of its own os,
 * `report` (no os axis) depending on `build-{os}` waits for every build, and
 * `build-{{os}}` waits for every build from any task. Names that match
 * nothing, a task waiting for itself, too many edges and dependency cycles
 * become issues at the `depends_on` field.
 */
export function resolveDependencies(
  tasks: ExpandedTask[],
  sources: readonly SourceDependencies[],
  builtins: Readonly<Record<string, string>>,
  locator: YamlLocator,
  issues: SuiteIssue[],
): void {
  if (!sources.some((s) => s.dependsOn.length > 0)) return;
  const byName = new Map<string, number>();
  const byTemplate = new Map<string, number[]>();
  tasks.forEach((t, k) => {
    if (!byName.has(t.spec.name)) byName.set(t.spec.name, k);
    const template = sources[t.index].template;
    byTemplate.set(template, [...(byTemplate.get(template) ?? []), k]);
  });
  const reported = new Set<string>();
  const report = (path: FieldPath, message: string) => {
    const issue = locator.issue(path, message);
    if (!reported.has(issue.path)) issues.push(issue);
    reported.add(issue.path);
  };
  let edges = 0;
  for (const [k, t] of tasks.entries()) {
    const source = sources[t.index];
    const names = new Set<string>();
    source.dependsOn.forEach((raw, j) => {
      const text = fillPlaceholders(raw, { ...builtins, ...t.combo }).text;
      const one = byName.get(text);
      const targets = one !== undefined ? [one] : byTemplate.get(text);
      if (!targets) return report([...source.path, j], notFound(raw, text));
      for (const target of targets) {
        if (target === k) report([...source.path, j], `${JSON.stringify(raw)} includes this task itself (${t.spec.name}); a task cannot wait for itself`);
        else names.add(tasks[target].spec.name);
      }
    });
    edges += names.size;
    if (edges > dependencyEdgesMax) {
      report(source.path, `the tasks so far depend on ${edges} tasks in all; a suite may have at most ${dependencyEdgesMax} dependencies: depend on fewer, wider tasks`);
      return;
    }
    t.spec.dependsOn = [...names];
  }
  const cycle = dependencyCycle(tasks.map((t) => t.spec.name), tasks.map((t) => t.spec.dependsOn));
  if (cycle) report(sources[tasks[byName.get(cycle[0])!].index].path, `dependency cycle ${formatCycle(cycle)}; no task in it could ever start`);
}

function notFound(raw: string, text: string): string {
  const filled = text === raw ? '' : ` (${JSON.stringify(raw)} with this task's matrix values filled in)`;
  return `no task is named ${JSON.stringify(text)}${filled}; write a task's name as expanded ("build-linux"), ` +
    'or as written in the file ("build-{os}") to wait for every task it expands to';
}
