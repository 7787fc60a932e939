import { DeviceKind, WorkerState, type Device, type Requirements, type Worker } from '../gen/dtf/common/v1/common_pb';
import { formatBytes } from './format-bytes';

/** The lower-case name users write for a device kind, e.g. "cuda". */
export function deviceKindName(kind: DeviceKind): string {
  return (DeviceKind[kind] ?? 'unspecified').toLowerCase();
}

/**
 * Why `worker` can never run a task with `req`, or undefined when it can.
 * Only static facts count here (hardware, labels, cordon); free slots are the
 * scheduler's concern, so a busy worker is still feasible.
 */
export function infeasibleReason(req: Requirements | undefined, worker: Worker): string | undefined {
  if (worker.state !== WorkerState.ONLINE) return 'not online';
  if (worker.cordoned) return 'cordoned';
  if (worker.draining) return 'draining';
  if (!req) return undefined;
  return (
    deviceReason(req, worker.hardware?.devices ?? []) ??
    cpuReason(req, worker) ??
    labelReason(req, worker.labels)
  );
}

function deviceReason(req: Requirements, devices: Device[]): string | undefined {
  const minMem = req.deviceMemoryMinBytes;
  const big = (d: Device) => minMem === 0n || d.kind === DeviceKind.CPU || d.memoryBytes >= minMem;
  for (const kind of req.allOf) {
    if (!devices.some((d) => d.kind === kind)) return `no ${deviceKindName(kind)} device`;
  }
  const wanted = req.anyOf.length > 0 ? req.anyOf : req.allOf;
  if (wanted.length === 0) return undefined;
  const matching = devices.filter((d) => wanted.includes(d.kind));
  if (matching.length === 0) {
    return `no ${wanted.map(deviceKindName).join(' or ')} device (has ${describeDevices(devices)})`;
  }
  const fitting = matching.filter(big);
  if (fitting.length === 0) {
    const most = matching.reduce((a, d) => (d.memoryBytes > a ? d.memoryBytes : a), 0n);
    return `device memory ${formatBytes(most, 'down')} < ${formatBytes(minMem, 'up')} required`;
  }
  const count = req.deviceCount || 1;
  if (fitting.length < count) return `needs ${count} devices, has ${fitting.length}`;
  return undefined;
}

function cpuReason(req: Requirements, worker: Worker): string | undefined {
  const hw = worker.hardware;
  if (req.cpuCores > 0 && (hw?.cpuCores ?? 0) < req.cpuCores) {
    return `needs ${req.cpuCores} CPU cores, has ${hw?.cpuCores ?? 0}`;
  }
  if (req.memoryBytes > 0n && (hw?.memoryBytes ?? 0n) < req.memoryBytes) {
    return `needs ${formatBytes(req.memoryBytes, 'up')} memory, has ${formatBytes(hw?.memoryBytes ?? 0n, 'down')}`;
  }
  return undefined;
}

function labelReason(req: Requirements, labels: Record<string, string>): string | undefined {
  for (const [k, v] of Object.entries(req.labels)) {
    if (!Object.hasOwn(labels, k)) return `label ${k}=${v} missing`;
    if (labels[k] !== v) return `label ${k}=${labels[k]}, needs ${k}=${v}`;
  }
  return undefined;
}

function describeDevices(devices: Device[]): string {
  if (devices.length === 0) return 'none';
  const counts = new Map<string, number>();
  for (const d of devices) counts.set(deviceKindName(d.kind), (counts.get(deviceKindName(d.kind)) ?? 0) + 1);
  return [...counts].map(([k, n]) => (n > 1 ? `${n}× ${k}` : k)).join(', ');
}
