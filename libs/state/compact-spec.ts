import type { TaskSpec } from '../gen/dtf/common/v1/common_pb';

const NO_STRINGS: string[] = Object.freeze([]) as unknown as string[];
const NO_ENTRIES: Record<string, string> = Object.freeze({}) as Record<string, string>;

/**
 * The spec as the state keeps it: one literal with every field, so V8 keeps
 * them all inside the object (a decoded or `create()`d message spills half
 * into a second allocation), and empty lists and maps shared and frozen.
 * About 150 bytes less per task: at a million queued tasks, 150 MB. Specs
 * never change after submission, so sharing the empty ones is safe.
 */
export function compactSpec(s: TaskSpec | undefined): TaskSpec | undefined {
  if (!s) return undefined;
  return {
    $typeName: 'dtf.common.v1.TaskSpec',
    name: s.name,
    argv: s.argv.length === 0 ? NO_STRINGS : s.argv,
    shell: s.shell,
    env: isEmpty(s.env) ? NO_ENTRIES : s.env,
    workingDir: s.workingDir,
    timeoutMs: s.timeoutMs,
    retries: s.retries,
    requirements: s.requirements,
    priority: s.priority,
    tags: isEmpty(s.tags) ? NO_ENTRIES : s.tags,
    dependsOn: s.dependsOn.length === 0 ? NO_STRINGS : s.dependsOn,
    deadlineMs: s.deadlineMs,
    retry: s.retry,
    expectedDurationMs: s.expectedDurationMs,
  };
}

function isEmpty(o: Record<string, string>): boolean {
  for (const _ in o) return false;
  return true;
}
