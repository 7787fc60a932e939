import { DeviceKind, type Device, type Requirements } from '../../libs/gen/dtf/common/v1/common_pb';
import { deviceKindName } from '../../libs/scheduling/feasibility';

/** The devices one attempt holds while it runs, by kind, as the devices' own indexes. */
export interface DeviceLease {
  readonly byKind: ReadonlyMap<DeviceKind, readonly number[]>;
  /** True when too few devices were free and some are shared with a running attempt. */
  readonly shared: boolean;
}

/**
 * The variable each runtime reads to know which devices a process may use.
 * Kinds without one (MPS, QNN, WebGPU) are only named in DTF_DEVICES.
 */
const visibilityVariable: ReadonlyMap<DeviceKind, string> = new Map([
  [DeviceKind.CUDA, 'CUDA_VISIBLE_DEVICES'],
  [DeviceKind.ROCM, 'HIP_VISIBLE_DEVICES'],
]);

const isAccelerator = (k: DeviceKind) => k !== DeviceKind.CPU && k !== DeviceKind.UNSPECIFIED;

/**
 * Which of this worker's accelerators each running attempt holds.
 *
 * The coordinator counts devices per kind (a task holds "one CUDA device");
 * which card it gets is decided here, when the attempt starts, the same way:
 * the first any-of kind with enough free devices, plus one of each all-of
 * kind, the lowest free indexes first, and only devices within the task's
 * memory range. The attempt is then told through CUDA_VISIBLE_DEVICES /
 * HIP_VISIBLE_DEVICES, so two tasks never share a card, and a task that
 * holds no device of a kind sees none of it.
 *
 * The coordinator's accounting means enough devices are free whenever an
 * attempt starts; should they not be (a card gone from nvidia-smi), the
 * attempt still starts, on the least-shared devices, and the lease says so.
 */
export class DeviceLeases {
  /** Per accelerator kind, its devices, and how many attempts hold each. */
  private readonly kinds = new Map<DeviceKind, { devices: Device[]; holders: Map<number, number> }>();

  constructor(devices: readonly Device[]) {
    for (const d of devices) {
      if (!isAccelerator(d.kind)) continue;
      let k = this.kinds.get(d.kind);
      if (!k) this.kinds.set(d.kind, (k = { devices: [], holders: new Map() }));
      k.devices.push(d);
    }
    for (const k of this.kinds.values()) k.devices.sort((a, b) => a.index - b.index);
  }

  /** Chooses and holds the devices an attempt with `req` needs; hold them until {@link release}. */
  take(req: Requirements | undefined): DeviceLease {
    const byKind = new Map<DeviceKind, number[]>();
    let shared = false;
    const hold = (kind: DeviceKind, count: number) => {
      const picked = this.pick(kind, count, req, byKind.get(kind) ?? []);
      shared ||= picked.shared;
      byKind.set(kind, [...(byKind.get(kind) ?? []), ...picked.indexes]);
    };
    const anyOf = (req?.anyOf ?? []).filter(isAccelerator);
    if (anyOf.length > 0) {
      const count = Math.max(1, req!.deviceCount);
      const kind = anyOf.find((k) => this.freeFitting(k, req).length >= count) ?? anyOf.find((k) => this.kinds.has(k));
      if (kind !== undefined) hold(kind, count);
    }
    for (const kind of (req?.allOf ?? []).filter(isAccelerator)) if (this.kinds.has(kind)) hold(kind, 1);
    for (const [kind, indexes] of byKind) {
      const holders = this.kinds.get(kind)!.holders;
      for (const i of indexes) holders.set(i, (holders.get(i) ?? 0) + 1);
    }
    return { byKind, shared };
  }

  /** Gives back what {@link take} held. */
  release(lease: DeviceLease): void {
    for (const [kind, indexes] of lease.byKind) {
      const holders = this.kinds.get(kind)?.holders;
      if (!holders) continue;
      for (const i of indexes) {
        const n = (holders.get(i) ?? 0) - 1;
        if (n > 0) holders.set(i, n);
        else holders.delete(i);
      }
    }
  }

  /**
   * The environment an attempt with `lease` runs in: for every kind this
   * worker has, the visibility variable lists the held indexes (empty when
   * it holds none, which hides them all), and DTF_DEVICES names each held
   * device as `kind:index`.
   */
  env(lease: DeviceLease): Record<string, string> {
    const env: Record<string, string> = {};
    for (const kind of this.kinds.keys()) {
      const variable = visibilityVariable.get(kind);
      if (variable) env[variable] = (lease.byKind.get(kind) ?? []).join(',');
    }
    const named: string[] = [];
    for (const [kind, indexes] of lease.byKind) for (const i of indexes) named.push(`${deviceKindName(kind)}:${i}`);
    if (this.kinds.size > 0) env.DTF_DEVICES = named.join(',');
    return env;
  }

  /** Free devices of `kind` within the memory range of `req`, lowest index first. */
  private freeFitting(kind: DeviceKind, req: Requirements | undefined): Device[] {
    const k = this.kinds.get(kind);
    if (!k) return [];
    return k.devices.filter((d) => !k.holders.has(d.index) && fitsMemory(d, req));
  }

  /** `count` devices of `kind`: free ones first, then the least held, never one in `taken`. */
  private pick(kind: DeviceKind, count: number, req: Requirements | undefined, taken: readonly number[]): { indexes: number[]; shared: boolean } {
    const k = this.kinds.get(kind)!;
    const candidates = k.devices.filter((d) => !taken.includes(d.index));
    const fitting = candidates.filter((d) => fitsMemory(d, req));
    const pool = fitting.length >= count ? fitting : candidates;
    const ranked = [...pool].sort((a, b) => (k.holders.get(a.index) ?? 0) - (k.holders.get(b.index) ?? 0) || a.index - b.index);
    const chosen = ranked.slice(0, count);
    return { indexes: chosen.map((d) => d.index), shared: chosen.some((d) => k.holders.has(d.index)) || chosen.length < count };
  }
}

function fitsMemory(d: Device, req: Requirements | undefined): boolean {
  const min = req?.deviceMemoryMinBytes ?? 0n;
  const max = req?.deviceMemoryMaxBytes ?? 0n;
  return (min === 0n || d.memoryBytes >= min) && (max === 0n || d.memoryBytes <= max);
}
