import { Code, ConnectError } from '@connectrpc/connect';
import type { TaskSpec } from '../../libs/gen/dtf/common/v1/common_pb';
import type { SubmitJobRequest } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { dependencyCycle, dependencyEdgesMax, formatCycle } from '../../libs/scheduling/dependency-graph';
import { retryPolicyProblems } from '../../libs/scheduling/retry-bounds';
import { tenantNameProblem } from '../../libs/scheduling/tenant-name';
import { requirementsProblems } from './validate-requirements';

/** Tasks one job may hold at most. */
export const tasksPerJobMax = 10_000;
/** Longest timeout a task may ask for: one week. */
export const taskTimeoutMsMax = 7 * 24 * 3600 * 1000;
export const retriesMax = 100;
export const nameLengthMax = 256;
export const envEntriesMax = 256;
/** The last millisecond of year 9999, the largest time a Date holds comfortably. */
export const deadlineMsMax = 253_402_300_799_999n;
/** Problems listed in one error; the rest are counted. */
const problemsShownMax = 20;

/**
 * Checks a submission before anything is proposed, so a bad one changes
 * nothing. Every problem names the field, e.g. `tasks[3].shell`.
 */
export function validateSubmit(req: SubmitJobRequest): void {
  const problems: string[] = [];
  if (req.name.length > nameLengthMax) problems.push(`name: longer than ${nameLengthMax} characters`);
  if (req.idempotencyKey.length > nameLengthMax) problems.push(`idempotency_key: longer than ${nameLengthMax} characters`);
  const tenant = tenantNameProblem(req.tenant);
  if (tenant) problems.push(`tenant: ${tenant}`);
  if (req.tasks.length === 0) problems.push('tasks: a job needs at least one task');
  if (req.tasks.length > tasksPerJobMax) problems.push(`tasks: ${req.tasks.length} tasks; at most ${tasksPerJobMax} per job`);
  const tasks = req.tasks.slice(0, tasksPerJobMax);
  tasks.forEach((t, i) => problems.push(...validateTask(t, `tasks[${i}]`)));
  if (tasks.some((t) => t.dependsOn.length > 0)) problems.push(...dependencyProblems(tasks));
  if (problems.length > 0) {
    const shown = problems.slice(0, problemsShownMax);
    const more = problems.length > shown.length ? ` (and ${problems.length - shown.length} more)` : '';
    throw new ConnectError(`invalid job: ${shown.join('; ')}${more}`, Code.InvalidArgument);
  }
}

function validateTask(t: TaskSpec, at: string): string[] {
  const p: string[] = [];
  const hasArgv = t.argv.length > 0;
  const hasShell = t.shell.trim() !== '';
  if (hasArgv === hasShell) p.push(`${at}: set exactly one of argv and shell`);
  if (hasArgv && t.argv[0].trim() === '') p.push(`${at}.argv[0]: the program is empty`);
  if (t.name.length > nameLengthMax) p.push(`${at}.name: longer than ${nameLengthMax} characters`);
  if (t.timeoutMs > taskTimeoutMsMax) p.push(`${at}.timeout_ms: ${t.timeoutMs} is over the maximum ${taskTimeoutMsMax}`);
  if (t.retries > retriesMax) p.push(`${at}.retries: ${t.retries} is over the maximum ${retriesMax}`);
  const env = Object.keys(t.env);
  if (env.length > envEntriesMax) p.push(`${at}.env: ${env.length} entries; at most ${envEntriesMax}`);
  for (const k of env) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) p.push(`${at}.env: "${k}" is not a valid variable name`);
  if (t.requirements) p.push(...requirementsProblems(t.requirements, `${at}.requirements`));
  if (t.retry) for (const why of retryPolicyProblems(t.retry)) p.push(`${at}.retry.${why}`);
  // A deadline already past is allowed: the task still runs, late, and is reported as such.
  if (t.deadlineMs < 0n) p.push(`${at}.deadline_ms: ${t.deadlineMs} is negative; 0 means no deadline`);
  if (t.deadlineMs > deadlineMsMax) p.push(`${at}.deadline_ms: ${t.deadlineMs} is past the year 9999; it is Unix milliseconds`);
  if (t.expectedDurationMs > taskTimeoutMsMax) p.push(`${at}.expected_duration_ms: ${t.expectedDurationMs} is over the maximum ${taskTimeoutMsMax}`);
  return p;
}

/**
 * Every `depends_on` entry must name exactly one other task of the job, once,
 * and the dependencies must not form a cycle (the job could never finish).
 */
function dependencyProblems(tasks: TaskSpec[]): string[] {
  const p: string[] = [];
  const byName = new Map<string, number[]>();
  tasks.forEach((t, i) => byName.set(t.name, [...(byName.get(t.name) ?? []), i]));
  let edges = 0;
  tasks.forEach((t, i) => {
    edges += t.dependsOn.length;
    const seen = new Set<string>();
    t.dependsOn.slice(0, dependencyEdgesMax).forEach((dep, j) => {
      const at = `tasks[${i}].depends_on[${j}]`;
      const named = byName.get(dep);
      if (!named) p.push(`${at}: no task named ${JSON.stringify(dep)} in this job`);
      else if (dep === t.name) p.push(`${at}: ${JSON.stringify(dep)} is the task itself`);
      else if (named.length > 1) {
        const where = named.slice(0, 3).map((k) => `tasks[${k}]`).join(', ') + (named.length > 3 ? ', …' : '');
        p.push(`${at}: ${JSON.stringify(dep)} names ${named.length} tasks (${where}); a task depended on needs a unique name`);
      } else if (seen.has(dep)) p.push(`${at}: ${JSON.stringify(dep)} is listed twice`);
      seen.add(dep);
    });
  });
  if (edges > dependencyEdgesMax) {
    p.push(`tasks: ${edges} dependencies in all; at most ${dependencyEdgesMax} per job`);
    return p;
  }
  // Self-dependencies are reported above; leave them out so a cycle names other tasks.
  const cycle = dependencyCycle(tasks.map((t) => t.name), tasks.map((t) => t.dependsOn.filter((d) => d !== t.name)));
  if (cycle) p.push(`tasks: dependency cycle ${formatCycle(cycle)}`);
  return p;
}
