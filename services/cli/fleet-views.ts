import { DeviceKind, WorkerState, type Worker } from '../../libs/gen/dtf/common/v1/common_pb';
import type { GetStatusResponse } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { formatBytes } from '../../libs/scheduling/format-bytes';
import { deviceKindName } from '../../libs/scheduling/feasibility';
import { renderTable } from './text-table';

function devices(w: Worker): string {
  const accel = (w.hardware?.devices ?? []).filter((d) => d.kind !== DeviceKind.CPU);
  if (accel.length === 0) return 'cpu';
  return accel.map((d) => `${deviceKindName(d.kind)}:${d.model} ${formatBytes(d.memoryBytes)}`).join(', ');
}

/** The breaker's state in a word: "quarantined", "probing" (one test task running), or "". */
export function breakerState(w: Worker): string {
  if (!w.breaker?.quarantined) return '';
  return w.breaker.probing ? 'probing' : 'quarantined';
}

/** One line per quarantined worker: until when, why, and how to lift it. */
export function quarantineNotes(workers: Worker[], nowMs: number): string[] {
  return workers.filter((w) => w.breaker?.quarantined).map((w) => {
    const b = w.breaker!;
    const left = Number(b.untilMs) - nowMs;
    const when = b.probing
      ? 'a probe task is running; its outcome restores or re-quarantines it'
      : left > 0
        ? `until ${new Date(Number(b.untilMs)).toISOString()} (${Math.ceil(left / 1000)} s from now), then one probe task`
        : 'cooled down: the next task it gets is a probe';
    return `${w.name || w.id} (${w.id}) quarantined, ${when}: ${b.reason}; lift with \`dtf quarantine clear ${w.id}\``;
  });
}

/** Workers as a plain-text table, then a note on each quarantined one. */
export function renderWorkersTable(workers: Worker[], nowMs = Date.now()): string {
  const header = ['WORKER', 'NAME', 'STATE', 'SLOTS', 'RUNNING', 'CPU', 'MEMORY', 'DEVICES', 'LABELS'];
  const rows = workers.map((w) => [
    w.id,
    w.name,
    [(WorkerState[w.state] ?? '').toLowerCase(), w.cordoned ? 'cordoned' : '', w.draining ? 'draining' : '', breakerState(w)].filter(Boolean).join(','),
    `${w.freeSlots}/${w.slots} free`,
    String(w.running.length),
    `${w.hardware?.cpuCores ?? 0} cores`,
    formatBytes(w.hardware?.memoryBytes ?? 0n),
    devices(w),
    Object.entries(w.labels).map(([k, v]) => `${k}=${v}`).join(','),
  ]);
  const notes = quarantineNotes(workers, nowMs);
  return [renderTable(header, rows), '', `${workers.length} workers`, ...notes].join('\n');
}

/** The status figures as aligned lines. */
export function renderStatus(s: GetStatusResponse): string {
  return [
    `role            ${s.role} (dtf ${s.version})`,
    `workers online  ${s.workersOnline} of ${s.workersTotal}`,
    `tasks pending   ${s.tasksPending}`,
    `tasks running   ${s.tasksRunning}`,
    `jobs active     ${s.jobsActive}`,
    `log applied     ${s.appliedIndex}`,
    `stale results   ${s.staleResultsRejected} rejected`,
    `stale updates   ${s.staleUpdatesRejected} rejected`,
    `quarantined     ${s.workersQuarantined} workers`,
    `shed            ${s.submissionsShed} submissions refused (queue full)`,
    `withdrawn       ${s.assignmentsWithdrawn} assignments the log refused after the push`,
    `uptime          ${(Number(s.uptimeMs) / 1000).toFixed(0)}s`,
  ].join('\n');
}
