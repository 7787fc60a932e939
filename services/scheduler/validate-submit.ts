import { Code, ConnectError } from '@connectrpc/connect';
import type { TaskSpec } from '../../libs/gen/dtf/common/v1/common_pb';
import type { SubmitJobRequest } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';

/** Tasks one job may hold at most. */
export const tasksPerJobMax = 10_000;
/** Longest timeout a task may ask for: one week. */
export const taskTimeoutMsMax = 7 * 24 * 3600 * 1000;
export const retriesMax = 100;
export const nameLengthMax = 256;
export const envEntriesMax = 256;

/**
 * Checks a submission before anything is proposed, so a bad one changes
 * nothing. Every problem names the field, e.g. `tasks[3].shell`.
 */
export function validateSubmit(req: SubmitJobRequest): void {
  const problems: string[] = [];
  if (req.name.length > nameLengthMax) problems.push(`name: longer than ${nameLengthMax} characters`);
  if (req.idempotencyKey.length > nameLengthMax) problems.push(`idempotency_key: longer than ${nameLengthMax} characters`);
  if (req.tasks.length === 0) problems.push('tasks: a job needs at least one task');
  if (req.tasks.length > tasksPerJobMax) problems.push(`tasks: ${req.tasks.length} tasks; at most ${tasksPerJobMax} per job`);
  req.tasks.slice(0, tasksPerJobMax).forEach((t, i) => problems.push(...validateTask(t, `tasks[${i}]`)));
  if (problems.length > 0) {
    const shown = problems.slice(0, 20);
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
  const r = t.requirements;
  if (r && r.deviceCount > 64) p.push(`${at}.requirements.device_count: ${r.deviceCount} is over 64`);
  return p;
}
