import { DeviceKind, type Requirements, type Worker } from '../gen/dtf/common/v1/common_pb';

/** Amounts of CPU, memory and accelerator devices. */
export interface Resources {
  cpu: number;
  memory: number;
  /** Accelerator devices by kind (the CPU is not one). */
  devices: Map<DeviceKind, number>;
}

/** What one task takes from a worker while it runs. */
export interface Demand {
  cpu: number;
  memory: number;
  /** Accelerators of one of these kinds (any-of), `count` of them… */
  anyOf: DeviceKind[];
  count: number;
  /** …and one of each of these (all-of). */
  allOf: DeviceKind[];
}

/**
 * Shared by every value without devices. Never written: addResources only
 * writes the device kinds of what it adds, and a value without devices is
 * only ever combined with others without them.
 */
const NO_DEVICES = new Map<DeviceKind, number>();

export function emptyResources(): Resources {
  return { cpu: 0, memory: 0, devices: new Map() };
}

const capacities = new WeakMap<Worker, Resources>();

/**
 * What a worker has in all: its cores, memory and accelerators. Cached per
 * worker object (a rejoin makes a new one); treat the result as read-only.
 */
export function capacityOf(worker: Worker): Resources {
  let c = capacities.get(worker);
  if (!c) capacities.set(worker, (c = measureCapacity(worker)));
  return c;
}

function measureCapacity(worker: Worker): Resources {
  const hw = worker.hardware;
  const devices = new Map<DeviceKind, number>();
  for (const d of hw?.devices ?? []) {
    if (d.kind === DeviceKind.CPU || d.kind === DeviceKind.UNSPECIFIED) continue;
    devices.set(d.kind, (devices.get(d.kind) ?? 0) + 1);
  }
  return { cpu: hw?.cpuCores ?? 0, memory: Number(hw?.memoryBytes ?? 0n), devices };
}

/** What a task with `req` takes while it runs. Tasks that ask for nothing take only a slot. */
export function demandOf(req: Requirements | undefined): Demand {
  if (!req) return NO_DEMAND;
  const accel = (k: DeviceKind) => k !== DeviceKind.CPU && k !== DeviceKind.UNSPECIFIED;
  const anyOf = req.anyOf.filter(accel);
  const allOf = req.allOf.filter(accel);
  return {
    cpu: req.cpuCores,
    memory: Number(req.memoryBytes),
    anyOf,
    count: anyOf.length > 0 ? Math.max(1, req.deviceCount) : 0,
    allOf,
  };
}

/**
 * The devices a task would take from `free`: the first any-of kind with
 * enough free devices, and one of each all-of kind. Undefined when the free
 * resources do not cover the demand.
 */
export function allocate(d: Demand, free: Resources): Resources | undefined {
  if (d === NO_DEMAND) return NO_RESOURCES;
  if (d.cpu > free.cpu || d.memory > free.memory) return undefined;
  if (d.count === 0 && d.allOf.length === 0) return { cpu: d.cpu, memory: d.memory, devices: NO_DEVICES };
  const take = new Map<DeviceKind, number>();
  for (const k of d.allOf) take.set(k, (take.get(k) ?? 0) + 1);
  if (d.count > 0) {
    const kind = d.anyOf.find((k) => (free.devices.get(k) ?? 0) - (take.get(k) ?? 0) >= d.count);
    if (kind === undefined) return undefined;
    take.set(kind, (take.get(kind) ?? 0) + d.count);
  }
  for (const [k, n] of take) if ((free.devices.get(k) ?? 0) < n) return undefined;
  return { cpu: d.cpu, memory: d.memory, devices: take };
}

/** Whether `free` covers the demand: {@link allocate} without building the allocation. */
export function fitsDemand(d: Demand, free: Resources): boolean {
  if (d.cpu > free.cpu || d.memory > free.memory) return false;
  if (d.count === 0 && d.allOf.length === 0) return true;
  return allocate(d, free) !== undefined;
}

/** `into += r` (sign 1) or `into -= r` (sign -1). */
export function addResources(into: Resources, r: Resources, sign: 1 | -1): void {
  into.cpu += sign * r.cpu;
  into.memory += sign * r.memory;
  for (const [k, n] of r.devices) into.devices.set(k, (into.devices.get(k) ?? 0) + sign * n);
}

/** `a - b` as a new value (its device map is new too, unless neither has devices). */
export function subtract(a: Resources, b: Resources): Resources {
  return freeInto({ cpu: 0, memory: 0, devices: NO_DEVICES }, a, b, undefined);
}

/**
 * `out = capacity - used - held`, written into `out` (a worker's free
 * resources, recomputed every round without allocating). Its device map is
 * new when any of the three has devices, else the shared empty one.
 */
export function freeInto(out: Resources, capacity: Resources, used: Resources, held: Resources | undefined): Resources {
  out.cpu = capacity.cpu - used.cpu - (held?.cpu ?? 0);
  out.memory = capacity.memory - used.memory - (held?.memory ?? 0);
  if (capacity.devices.size === 0 && used.devices.size === 0 && !(held && held.devices.size > 0)) {
    out.devices = NO_DEVICES;
    return out;
  }
  out.devices = new Map(capacity.devices);
  for (const [k, n] of used.devices) out.devices.set(k, (out.devices.get(k) ?? 0) - n);
  if (held) for (const [k, n] of held.devices) out.devices.set(k, (out.devices.get(k) ?? 0) - n);
  return out;
}

/** Nothing: what a slot-only task holds, and what an idle worker uses. Never written. */
export const NO_RESOURCES: Readonly<Resources> = Object.freeze({ cpu: 0, memory: 0, devices: NO_DEVICES });

/** The demand of a task without requirements: a slot and nothing else. Shared, never changed. */
export const NO_DEMAND: Readonly<Demand> = Object.freeze({ cpu: 0, memory: 0, anyOf: Object.freeze([]) as unknown as DeviceKind[], count: 0, allOf: Object.freeze([]) as unknown as DeviceKind[] });

/**
 * The busiest of CPU, memory and devices in use once `holding` is taken
 * from `free`, as a fraction 0..1, without building the remainder.
 */
export function utilisationAfter(capacity: Resources, free: Resources, holding: Resources): number {
  let u = 0;
  if (capacity.cpu > 0) u = Math.max(u, 1 - (free.cpu - holding.cpu) / capacity.cpu);
  if (capacity.memory > 0) u = Math.max(u, 1 - (free.memory - holding.memory) / capacity.memory);
  // Most workers have no devices: skip making an iterator for an empty map.
  if (capacity.devices.size > 0) {
    for (const [k, n] of capacity.devices) if (n > 0) u = Math.max(u, 1 - ((free.devices.get(k) ?? 0) - (holding.devices.get(k) ?? 0)) / n);
  }
  return Math.min(1, Math.max(0, u));
}
