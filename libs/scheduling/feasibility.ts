import { DeviceKind, WorkerState, type Device, type Requirements, type Worker } from '../gen/dtf/common/v1/common_pb';
import { Verdict } from '../gen/dtf/scheduler/v1/scheduler_service_pb';
import { formatBytes } from './format-bytes';
import { formatSelector, matchesSelector } from './label-selector';
import type { FeasibilityChecker, Refusal } from './plugin';

/** The lower-case name users write for a device kind, e.g. "cuda". */
export function deviceKindName(kind: DeviceKind): string {
  return (DeviceKind[kind] ?? 'unspecified').toLowerCase();
}

/**
 * Why `worker` can never run a task with `req`, or undefined when it can.
 * Only static facts count here (hardware, labels, cordon); free slots are the
 * scheduler's concern, so a busy worker is still feasible. The built-in
 * checkers only: plug-ins go through {@link firstRefusal}.
 */
export function infeasibleReason(req: Requirements | undefined, worker: Worker): string | undefined {
  return firstRefusal(req, worker)?.reason;
}

/**
 * The first refusal of the built-in checkers, then of `extra` (plug-in
 * checkers, best wrapped by `pluginCheckers`), or undefined when every
 * checker accepts the worker. An extra checker's refusal without a verdict
 * counts as {@link Verdict.PLUGIN}.
 */
export function firstRefusal(
  req: Requirements | undefined,
  worker: Worker,
  extra: readonly FeasibilityChecker[] = [],
): Refusal | undefined {
  for (const c of builtinCheckers) {
    const r = c.check(req, worker);
    if (r) return r;
  }
  for (const c of extra) {
    const r = c.check(req, worker);
    if (r) return r.verdict === Verdict.UNSPECIFIED ? { verdict: Verdict.PLUGIN, reason: r.reason } : r;
  }
  return undefined;
}

const state: FeasibilityChecker = {
  name: 'state',
  check(_req, worker) {
    if (worker.state !== WorkerState.ONLINE) return { verdict: Verdict.UNSPECIFIED, reason: 'not online' };
    if (worker.cordoned) return { verdict: Verdict.CORDONED, reason: 'cordoned' };
    if (worker.draining) return { verdict: Verdict.DRAINING, reason: 'draining' };
    return undefined;
  },
};

const devices: FeasibilityChecker = {
  name: 'devices',
  check(req, worker) {
    if (!req) return undefined;
    const all = worker.hardware?.devices ?? [];
    const missing = (reason: string): Refusal => ({ verdict: Verdict.MISSING_DEVICE, reason });
    for (const kind of req.allOf) {
      if (!all.some((d) => d.kind === kind)) return missing(`no ${deviceKindName(kind)} device`);
    }
    const wanted = req.anyOf.length > 0 ? req.anyOf : req.allOf;
    if (wanted.length === 0) return undefined;
    const matching = all.filter((d) => wanted.includes(d.kind));
    if (matching.length === 0) return missing(`no ${wanted.map(deviceKindName).join(' or ')} device (has ${describeDevices(all)})`);
    const min = req.deviceMemoryMinBytes;
    const max = req.deviceMemoryMaxBytes;
    // The CPU "device" has no memory of its own; its memory is the worker's, checked below.
    const fits = (d: Device) => d.kind === DeviceKind.CPU || ((min === 0n || d.memoryBytes >= min) && (max === 0n || d.memoryBytes <= max));
    const fitting = matching.filter(fits).length;
    if (fitting === 0) return { verdict: Verdict.INSUFFICIENT_MEMORY, reason: memoryRangeReason(matching, min, max) };
    const count = req.deviceCount || 1;
    if (fitting < count) {
      // Enough devices of the kind, too few of the size: the memory range is what refuses.
      const verdict = matching.length >= count ? Verdict.INSUFFICIENT_MEMORY : Verdict.MISSING_DEVICE;
      return { verdict, reason: `needs ${count} devices, has ${fitting}` };
    }
    return undefined;
  },
};

const cpu: FeasibilityChecker = {
  name: 'cpu',
  check(req, worker) {
    const has = worker.hardware?.cpuCores ?? 0;
    if (!req || req.cpuCores === 0 || has >= req.cpuCores) return undefined;
    return { verdict: Verdict.INSUFFICIENT_CPU, reason: `needs ${req.cpuCores} CPU cores, has ${has}` };
  },
};

const memory: FeasibilityChecker = {
  name: 'memory',
  check(req, worker) {
    const has = worker.hardware?.memoryBytes ?? 0n;
    if (!req || req.memoryBytes === 0n || has >= req.memoryBytes) return undefined;
    return { verdict: Verdict.INSUFFICIENT_MEMORY, reason: `needs ${formatBytes(req.memoryBytes, 'up')} memory, has ${formatBytes(has, 'down')}` };
  },
};

const labels: FeasibilityChecker = {
  name: 'labels',
  check(req, worker) {
    if (!req) return undefined;
    const mismatch = (reason: string): Refusal => ({ verdict: Verdict.LABEL_MISMATCH, reason });
    const has = worker.labels;
    for (const [k, v] of Object.entries(req.labels)) {
      if (!Object.hasOwn(has, k)) return mismatch(`label ${k}=${v} missing`);
      if (has[k] !== v) return mismatch(`label ${k}=${has[k]}, needs ${k}=${v}`);
    }
    for (const sel of req.selectors) {
      if (matchesSelector(sel, has)) continue;
      const want = formatSelector(sel);
      if (!Object.hasOwn(has, sel.key)) return mismatch(`no label ${sel.key}; needs ${want}`);
      return mismatch(`label ${sel.key}=${has[sel.key]} does not satisfy ${want}`);
    }
    return undefined;
  },
};

/**
 * The built-in checkers in the order they run: worker state, devices (kinds,
 * count, memory range), CPU cores, memory, labels and selectors. The first
 * refusal is the one reported, so cheap and telling checks come first.
 */
export const builtinCheckers: readonly FeasibilityChecker[] = [state, devices, cpu, memory, labels];

/**
 * Says why no matching device's memory lies in [min, max]. Shown sizes are
 * rounded away from the bound they miss, so a message never reads
 * "40.0GiB < 40GiB".
 */
function memoryRangeReason(matching: Device[], min: bigint, max: bigint): string {
  const small = matching.filter((d) => d.memoryBytes < min);
  const big = matching.filter((d) => max !== 0n && d.memoryBytes > max);
  if (big.length === 0) {
    const most = small.reduce((a, d) => (d.memoryBytes > a ? d.memoryBytes : a), 0n);
    return `device memory ${formatBytes(most, 'down')} < ${formatBytes(min, 'up')} required`;
  }
  if (small.length === 0) {
    const least = big.reduce((a, d) => (d.memoryBytes < a ? d.memoryBytes : a), big[0].memoryBytes);
    return `device memory ${formatBytes(least, 'up')} > ${formatBytes(max, 'down')} allowed`;
  }
  const sizes = [...new Set(matching.map((d) => formatBytes(d.memoryBytes)))].join(', ');
  return `no device memory within ${formatBytes(min, 'up')}..${formatBytes(max, 'down')} (has ${sizes})`;
}

function describeDevices(all: Device[]): string {
  if (all.length === 0) return 'none';
  const counts = new Map<string, number>();
  for (const d of all) counts.set(deviceKindName(d.kind), (counts.get(deviceKindName(d.kind)) ?? 0) + 1);
  return [...counts].map(([k, n]) => (n > 1 ? `${n}× ${k}` : k)).join(', ');
}
