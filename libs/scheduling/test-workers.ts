import { create } from '@bufbuild/protobuf';
import fc from 'fast-check';
import {
  DeviceKind,
  RequirementsSchema,
  TaskSchema,
  WorkerSchema,
  WorkerState,
  type Requirements,
  type Task,
  type Worker,
} from '../gen/dtf/common/v1/common_pb';

/* Builders for the scheduling tests: workers and tasks in one line each. */

export const GiB = 1024n ** 3n;

export interface WorkerInit {
  id: string;
  name?: string;
  state?: WorkerState;
  cordoned?: boolean;
  draining?: boolean;
  cpuCores?: number;
  memoryBytes?: bigint;
  devices?: [kind: DeviceKind, memoryBytes: bigint][];
  labels?: Record<string, string>;
}

export function worker(w: WorkerInit): Worker {
  return create(WorkerSchema, {
    id: w.id,
    name: w.name ?? '',
    state: w.state ?? WorkerState.ONLINE,
    cordoned: w.cordoned ?? false,
    draining: w.draining ?? false,
    labels: w.labels ?? {},
    slots: 4,
    hardware: {
      cpuCores: w.cpuCores ?? 8,
      memoryBytes: w.memoryBytes ?? 32n * GiB,
      devices: (w.devices ?? [[DeviceKind.CPU, 0n]]).map(([kind, memoryBytes], index) => ({ kind, memoryBytes, index })),
    },
  });
}

export type RequirementsInit = Partial<Omit<Requirements, '$typeName' | '$unknown'>>;

export function req(r: RequirementsInit): Requirements {
  return create(RequirementsSchema, r);
}

export function task(id: string, req?: RequirementsInit, priority = 0): Task {
  return create(TaskSchema, { id, spec: { name: id, priority, requirements: req } });
}

const { CPU, CUDA, ROCM } = DeviceKind;

/** The rules as the proto comments state them, written the obvious way. */
export function naiveFeasible(r: Requirements | undefined, w: Worker): boolean {
  if (w.state !== WorkerState.ONLINE || w.cordoned || w.draining) return false;
  if (!r) return true;
  const devices = w.hardware?.devices ?? [];
  for (const kind of r.allOf) if (!devices.some((d) => d.kind === kind)) return false;
  const kinds = r.anyOf.length > 0 ? r.anyOf : r.allOf;
  if (kinds.length > 0) {
    let fitting = 0;
    for (const d of devices) {
      if (kinds.includes(d.kind) && (d.kind === CPU || d.memoryBytes >= r.deviceMemoryMinBytes)) fitting++;
    }
    if (fitting < Math.max(1, r.deviceCount)) return false;
  }
  if ((w.hardware?.cpuCores ?? 0) < r.cpuCores) return false;
  if ((w.hardware?.memoryBytes ?? 0n) < r.memoryBytes) return false;
  return Object.entries(r.labels).every(([k, v]) => Object.hasOwn(w.labels, k) && w.labels[k] === v);
}

const kindArb = fc.constantFrom(CPU, CUDA, ROCM);
const sizeArb = fc.constantFrom(0n, 8n * GiB, 16n * GiB, 40n * GiB, 80n * GiB);
const labelsArb = fc.record({ os: fc.constantFrom('linux', 'mac'), zone: fc.constantFrom('a', 'b') }, { requiredKeys: [] });

export const workerInitArb: fc.Arbitrary<WorkerInit> = fc.record({
  id: fc.constant('w'),
  state: fc.constantFrom(WorkerState.ONLINE, WorkerState.ONLINE, WorkerState.ONLINE, WorkerState.ONLINE, WorkerState.LOST, WorkerState.LEFT),
  cordoned: fc.constantFrom(false, false, false, false, false, true),
  draining: fc.constantFrom(false, false, false, false, false, true),
  cpuCores: fc.constantFrom(1, 4, 16),
  memoryBytes: fc.constantFrom(4n * GiB, 64n * GiB),
  devices: fc.array(fc.tuple(kindArb, sizeArb), { maxLength: 4 }),
  labels: labelsArb.map((l) => l as Record<string, string>),
});

export const workerArb = workerInitArb.map(worker);

export const requirementsArb: fc.Arbitrary<Requirements | undefined> = fc.option(
  fc
    .record({
      anyOf: fc.uniqueArray(kindArb, { maxLength: 2 }),
      allOf: fc.uniqueArray(kindArb, { maxLength: 2 }),
      deviceCount: fc.nat(3),
      deviceMemoryMinBytes: fc.constantFrom(0n, 8n * GiB, 16n * GiB, 32n * GiB),
      cpuCores: fc.constantFrom(0, 2, 8),
      memoryBytes: fc.constantFrom(0n, 8n * GiB),
      labels: labelsArb.map((l) => l as Record<string, string>),
    })
    .map(req),
  { freq: 4, nil: undefined },
);
