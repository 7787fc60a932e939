import { DeviceKind, WorkerState, type Worker } from '../../libs/gen/dtf/common/v1/common_pb';
import type { GetStatusResponse } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { formatBytes } from '../../libs/scheduling/format-bytes';
import { deviceKindName } from '../../libs/scheduling/feasibility';

function devices(w: Worker): string {
  const accel = (w.hardware?.devices ?? []).filter((d) => d.kind !== DeviceKind.CPU);
  if (accel.length === 0) return 'cpu';
  return accel.map((d) => `${deviceKindName(d.kind)}:${d.model} ${formatBytes(d.memoryBytes)}`).join(', ');
}

/** Workers as a plain-text table. */
export function renderWorkersTable(workers: Worker[]): string {
  const header = ['WORKER', 'NAME', 'STATE', 'SLOTS', 'RUNNING', 'CPU', 'MEMORY', 'DEVICES', 'LABELS'];
  const rows = workers.map((w) => [
    w.id,
    w.name,
    (WorkerState[w.state] ?? '').toLowerCase() + (w.cordoned ? ',cordoned' : '') + (w.draining ? ',draining' : ''),
    `${w.freeSlots}/${w.slots} free`,
    String(w.running.length),
    `${w.hardware?.cpuCores ?? 0} cores`,
    formatBytes(w.hardware?.memoryBytes ?? 0n),
    devices(w),
    Object.entries(w.labels).map(([k, v]) => `${k}=${v}`).join(','),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), ...rows.map(line), '', `${workers.length} workers`].join('\n');
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
    `uptime          ${(Number(s.uptimeMs) / 1000).toFixed(0)}s`,
  ].join('\n');
}
