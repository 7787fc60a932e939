import type { Requirements } from '../gen/dtf/common/v1/common_pb';

/**
 * A key equal for requirements that no worker can tell apart: the same
 * devices, sizes, labels and selectors. Soft preferences are left out: they
 * rank workers but never change which ones can run a task.
 */
export function requirementClass(r: Requirements | undefined): string {
  if (!r) return '';
  const sel = r.selectors.map((s) => [s.key, s.operator, [...s.values].sort()]).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  const key = [
    r.anyOf, r.allOf, r.deviceCount, String(r.deviceMemoryMinBytes), String(r.deviceMemoryMaxBytes),
    r.cpuCores, String(r.memoryBytes), Object.entries(r.labels).sort(), sel,
  ];
  const s = JSON.stringify(key);
  return s === EMPTY ? '' : s;
}

const EMPTY = JSON.stringify([[], [], 0, '0', '0', 0, '0', [], []]);
