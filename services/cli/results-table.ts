import { AttemptOutcome, TaskState, TestCaseStatus, type Task } from '../../libs/gen/dtf/common/v1/common_pb';

/** Column widths are capped so one long name cannot wreck the table. */
export const columnCharsMax = 48;

export function stateName(s: TaskState): string {
  return (TaskState[s] ?? 'unknown').toLowerCase();
}

function outcomeNote(t: Task): string {
  const r = t.result;
  if (t.state === TaskState.PENDING || t.state === TaskState.SKIPPED) return t.pendingReason;
  if (!r) return '';
  if (r.error) return r.error.split('\n')[0];
  if (r.outcome === AttemptOutcome.FAILED) return `exit ${r.exitCode}${r.signal ? ` (${r.signal})` : ''}`;
  return '';
}

function tests(t: Task): string {
  const cases = t.result?.testCases ?? [];
  if (cases.length === 0) return '';
  const passed = cases.filter((c) => c.status === TestCaseStatus.PASSED).length;
  return `${passed}/${cases.length}`;
}

function metrics(t: Task): string {
  return (t.result?.metrics ?? []).slice(0, 2).map((m) => `${m.name}=${round(m.value)}${m.unit ? ' ' + m.unit : ''}`).join(', ');
}

function round(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3);
}

/** Seconds an attempt ran, from its result. */
export function durationSeconds(t: Task): number | undefined {
  const r = t.result;
  if (!r || r.startedAtMs === 0n || r.finishedAtMs === 0n) return undefined;
  return Number(r.finishedAtMs - r.startedAtMs) / 1000;
}

/** Renders tasks as a plain-text table: one row per task, then totals. */
export function renderResultsTable(tasks: Task[]): string {
  const header = ['TASK', 'STATE', 'TRIES', 'TIME', 'TESTS', 'METRICS', 'NOTE'];
  const rows = tasks.map((t) => {
    const d = durationSeconds(t);
    return [t.spec?.name || t.id, stateName(t.state), String(t.attempt), d === undefined ? '' : `${d.toFixed(1)}s`, tests(t), metrics(t), outcomeNote(t)];
  });
  const widths = header.map((h, i) => Math.min(columnCharsMax, Math.max(h.length, ...rows.map((r) => r[i].length))));
  const line = (cells: string[]) => cells.map((c, i) => clip(c, columnCharsMax).padEnd(widths[i])).join('  ').trimEnd();
  const count = (s: TaskState) => tasks.filter((t) => t.state === s).length;
  const summary = `${tasks.length} tasks: ${count(TaskState.SUCCEEDED)} succeeded, ${count(TaskState.FAILED)} failed, ${count(TaskState.ERRORED)} errored, ${count(TaskState.CANCELLED)} cancelled, ${count(TaskState.SKIPPED)} skipped, ${count(TaskState.PENDING) + count(TaskState.RUNNING)} unfinished`;
  return [line(header), ...rows.map(line), '', summary].join('\n');
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, n - 1) + '…';
}
