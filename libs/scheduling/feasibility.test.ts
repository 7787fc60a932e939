import fc from 'fast-check';
import { DeviceKind, SelectorOperator, WorkerState, type Requirements, type Worker } from '../gen/dtf/common/v1/common_pb';
import { Verdict } from '../gen/dtf/scheduler/v1/scheduler_service_pb';
import { builtinCheckers, deviceKindName, firstRefusal, infeasibleReason } from './feasibility';
import { parseSelector } from './label-selector';
import type { FeasibilityChecker } from './plugin';
import { GiB, naiveFeasible, req, requirementsArb, worker, workerArb } from './test-workers';

const seed = Number(process.env.FC_SEED ?? 424242);
const { CPU, CUDA, ROCM } = DeviceKind;

const cpuOnly = worker({ id: 'cpu', devices: [[CPU, 0n]] });
const oneA100 = worker({ id: 'a100', devices: [[CPU, 0n], [CUDA, 40n * GiB]] });

describe('infeasibleReason', () => {
  it('never lets a cuda task onto a cpu-only worker', () => {
    expect(infeasibleReason(req({ anyOf: [CUDA] }), cpuOnly)).toBe('no cuda device (has cpu)');
    expect(infeasibleReason(req({ allOf: [CUDA] }), cpuOnly)).toBe('no cuda device');
    expect(infeasibleReason(req({ anyOf: [CUDA] }), worker({ id: 'bare', devices: [] }))).toBe('no cuda device (has none)');
    expect(infeasibleReason(req({ anyOf: [CUDA] }), oneA100)).toBeUndefined();
    expect(infeasibleReason(req({ anyOf: [CUDA, ROCM] }), worker({ id: 'amd', devices: [[ROCM, 64n * GiB]] }))).toBeUndefined();
    expect(infeasibleReason(req({ anyOf: [CUDA, ROCM] }), worker({ id: 'c', devices: [[CPU, 0n], [CPU, 0n]] }))).toBe('no cuda or rocm device (has 2× cpu)');
  });

  it('checks device memory per device, and the device count among big-enough devices', () => {
    expect(infeasibleReason(req({ anyOf: [CUDA], deviceMemoryMinBytes: 80n * GiB }), oneA100)).toBe('device memory 40GiB < 80GiB required');
    expect(infeasibleReason(req({ anyOf: [CUDA], deviceMemoryMinBytes: 40n * GiB }), oneA100)).toBeUndefined();
    expect(infeasibleReason(req({ anyOf: [CUDA], deviceCount: 2 }), oneA100)).toBe('needs 2 devices, has 1');
    const mixed = worker({ id: 'mixed', devices: [[CUDA, 16n * GiB], [CUDA, 40n * GiB], [CUDA, 40n * GiB]] });
    expect(infeasibleReason(req({ anyOf: [CUDA], deviceCount: 3, deviceMemoryMinBytes: 24n * GiB }), mixed)).toBe('needs 3 devices, has 2');
    expect(infeasibleReason(req({ anyOf: [CUDA], deviceCount: 2, deviceMemoryMinBytes: 24n * GiB }), mixed)).toBeUndefined();
  });

  it('never shows a device as big as the requirement it misses', () => {
    // 40 GiB less 1 MiB rounds to "40.0GiB"; the message must not read "40.0GiB < 40GiB".
    const almost = worker({ id: 'almost', devices: [[CUDA, 40n * GiB - 1024n * 1024n]] });
    const why = infeasibleReason(req({ anyOf: [CUDA], deviceMemoryMinBytes: 40n * GiB }), almost);
    expect(why).toBe('device memory 39.9GiB < 40GiB required');
    const small = worker({ id: 'small', memoryBytes: 16n * GiB - 1n });
    expect(infeasibleReason(req({ memoryBytes: 16n * GiB }), small)).toBe('needs 16GiB memory, has 15.9GiB');
  });

  it('checks CPU cores, memory and labels', () => {
    const w = worker({ id: 'w', cpuCores: 4, memoryBytes: 16n * GiB, labels: { os: 'linux', zone: 'a' } });
    expect(infeasibleReason(req({ cpuCores: 8 }), w)).toBe('needs 8 CPU cores, has 4');
    expect(infeasibleReason(req({ cpuCores: 4 }), w)).toBeUndefined();
    expect(infeasibleReason(req({ memoryBytes: 32n * GiB }), w)).toBe('needs 32GiB memory, has 16GiB');
    expect(infeasibleReason(req({ labels: { os: 'linux' } }), w)).toBeUndefined();
    expect(infeasibleReason(req({ labels: { os: 'mac' } }), w)).toBe('label os=linux, needs os=mac');
    expect(infeasibleReason(req({ labels: { gpu: 'yes' } }), w)).toBe('label gpu=yes missing');
    // Labels are data, not object properties.
    expect(infeasibleReason(req({ labels: { constructor: 'x' } }), w)).toBe('label constructor=x missing');
    expect(infeasibleReason(req({ labels: { toString: 'x' } }), w)).toBe('label toString=x missing');
  });

  it('refuses workers that are not online, cordoned or draining, whatever the task needs', () => {
    expect(infeasibleReason(undefined, worker({ id: 'l', state: WorkerState.LOST }))).toBe('not online');
    expect(infeasibleReason(undefined, worker({ id: 'g', state: WorkerState.LEFT }))).toBe('not online');
    expect(infeasibleReason(undefined, worker({ id: 'c', cordoned: true }))).toBe('cordoned');
    expect(infeasibleReason(undefined, worker({ id: 'd', draining: true }))).toBe('draining');
    expect(infeasibleReason(undefined, cpuOnly)).toBeUndefined();
    expect(infeasibleReason(req({}), cpuOnly)).toBeUndefined();
  });

  it('names device kinds the way users write them', () => {
    expect(deviceKindName(CUDA)).toBe('cuda');
    expect(deviceKindName(DeviceKind.WEBGPU)).toBe('webgpu');
    expect(deviceKindName(99 as DeviceKind)).toBe('unspecified');
  });

  it('agrees with a naive reading of the requirement rules', () => {
    fc.assert(
      fc.property(workerArb, requirementsArb, (w, r) => {
        const why = infeasibleReason(r, w);
        expect(why === undefined).toBe(naiveFeasible(r, w));
        if (why !== undefined) expect(why.length).toBeGreaterThan(0);
      }),
      { seed, numRuns: 1000 },
    );
  });
});

describe('firstRefusal', () => {
  const w = worker({
    id: 'w', cpuCores: 4, memoryBytes: 16n * GiB, labels: { os: 'linux', gpu: 't4', spot: 'true' },
    devices: [[CPU, 0n], [CUDA, 24n * GiB], [CUDA, 96n * GiB]],
  });
  const sel = (...texts: string[]) => texts.map(parseSelector);

  it.each<[string, Requirements | undefined, Worker, Verdict, string]>([
    ['lost', undefined, worker({ id: 'l', state: WorkerState.LOST }), Verdict.UNSPECIFIED, 'not online'],
    ['cordoned', undefined, worker({ id: 'c', cordoned: true }), Verdict.CORDONED, 'cordoned'],
    ['draining', undefined, worker({ id: 'd', draining: true }), Verdict.DRAINING, 'draining'],
    ['no rocm', req({ anyOf: [ROCM] }), w, Verdict.MISSING_DEVICE, 'no rocm device (has cpu, 2× cuda)'],
    ['all-of rocm', req({ allOf: [ROCM] }), w, Verdict.MISSING_DEVICE, 'no rocm device'],
    ['too few cuda', req({ anyOf: [CUDA], deviceCount: 3 }), w, Verdict.MISSING_DEVICE, 'needs 3 devices, has 2'],
    ['too few big cuda', req({ anyOf: [CUDA], deviceCount: 2, deviceMemoryMinBytes: 40n * GiB }), w, Verdict.INSUFFICIENT_MEMORY, 'needs 2 devices, has 1'],
    ['all too small', req({ anyOf: [CUDA], deviceMemoryMinBytes: 100n * GiB }), w, Verdict.INSUFFICIENT_MEMORY, 'device memory 96GiB < 100GiB required'],
    ['all too big', req({ anyOf: [CUDA], deviceMemoryMaxBytes: 16n * GiB }), w, Verdict.INSUFFICIENT_MEMORY, 'device memory 24GiB > 16GiB allowed'],
    ['none within', req({ anyOf: [CUDA], deviceMemoryMinBytes: 40n * GiB, deviceMemoryMaxBytes: 80n * GiB }), w, Verdict.INSUFFICIENT_MEMORY, 'no device memory within 40GiB..80GiB (has 24GiB, 96GiB)'],
    ['cores', req({ cpuCores: 8 }), w, Verdict.INSUFFICIENT_CPU, 'needs 8 CPU cores, has 4'],
    ['memory', req({ memoryBytes: 64n * GiB }), w, Verdict.INSUFFICIENT_MEMORY, 'needs 64GiB memory, has 16GiB'],
    ['label', req({ labels: { os: 'mac' } }), w, Verdict.LABEL_MISMATCH, 'label os=linux, needs os=mac'],
    ['in', req({ selectors: sel('gpu in (a100, h100)') }), w, Verdict.LABEL_MISMATCH, 'label gpu=t4 does not satisfy gpu in (a100, h100)'],
    ['in, missing', req({ selectors: sel('zone in (a, b)') }), w, Verdict.LABEL_MISMATCH, 'no label zone; needs zone in (a, b)'],
    ['not exists', req({ selectors: sel('os=linux', '!spot') }), w, Verdict.LABEL_MISMATCH, 'label spot=true does not satisfy !spot'],
    ['exists', req({ selectors: sel('fast-disk') }), w, Verdict.LABEL_MISMATCH, 'no label fast-disk; needs fast-disk'],
    ['notin', req({ selectors: sel('gpu notin (t4)') }), w, Verdict.LABEL_MISMATCH, 'label gpu=t4 does not satisfy gpu notin (t4)'],
  ])('%s', (_name, r, wk, verdict, reason) => {
    expect(firstRefusal(r, wk)).toEqual({ verdict, reason });
    expect(infeasibleReason(r, wk)).toBe(reason);
  });

  it('accepts devices within a memory range, and selectors that hold', () => {
    expect(firstRefusal(req({ anyOf: [CUDA], deviceMemoryMinBytes: 16n * GiB, deviceMemoryMaxBytes: 24n * GiB }), w)).toBeUndefined();
    expect(firstRefusal(req({ anyOf: [CUDA], deviceMemoryMaxBytes: 96n * GiB, deviceCount: 2 }), w)).toBeUndefined();
    // The CPU device has no memory of its own; a range never excludes it.
    expect(firstRefusal(req({ anyOf: [CPU], deviceMemoryMaxBytes: 1n * GiB }), w)).toBeUndefined();
    expect(firstRefusal(req({ selectors: sel('os=linux', 'gpu in (t4)', 'zone notin (a)', 'spot', '!preemptible', 'os!=mac') }), w)).toBeUndefined();
  });

  it('runs the built-in checkers in a fixed order, before any extra one', () => {
    expect(builtinCheckers.map((c) => c.name)).toEqual(['state', 'devices', 'cpu', 'memory', 'labels']);
    const seen: string[] = [];
    const spy: FeasibilityChecker = { name: 'spy', check: (_r, wk) => void seen.push(wk.id) };
    expect(firstRefusal(req({ cpuCores: 64 }), w, [spy])?.verdict).toBe(Verdict.INSUFFICIENT_CPU);
    expect(seen).toEqual([]);
    expect(firstRefusal(req({}), w, [spy])).toBeUndefined();
    expect(seen).toEqual(['w']);
  });

  it('gives an extra checker\'s refusal without a verdict the plug-in verdict', () => {
    const no: FeasibilityChecker = { name: 'no', check: () => ({ verdict: Verdict.UNSPECIFIED, reason: 'nope' }) };
    const cpuNo: FeasibilityChecker = { name: 'cpu-no', check: () => ({ verdict: Verdict.INSUFFICIENT_CPU, reason: 'hot' }) };
    expect(firstRefusal(undefined, w, [no])).toEqual({ verdict: Verdict.PLUGIN, reason: 'nope' });
    expect(firstRefusal(undefined, w, [cpuNo, no])).toEqual({ verdict: Verdict.INSUFFICIENT_CPU, reason: 'hot' });
  });
});

describe('feasibility with memory ranges and selectors', () => {
  const selectorArb = fc.constantFrom('os=linux', 'os!=mac', 'zone in (a)', 'zone notin (a)', 'os', '!zone').map(parseSelector);
  const rangedArb = fc.tuple(requirementsArb, fc.constantFrom(0n, 16n * GiB, 40n * GiB), fc.array(selectorArb, { maxLength: 2 }))
    .map(([r, max, selectors]) => (r ? req({ ...r, deviceMemoryMaxBytes: max, selectors }) : r));

  /** The proto comments read literally: a device fits when its memory is in [min, max]. */
  function naive(r: Requirements | undefined, w: Worker): boolean {
    if (!naiveFeasible(r && req({ ...r, anyOf: [], allOf: [], selectors: [] }), w)) return false;
    if (!r) return true;
    const devices = w.hardware?.devices ?? [];
    if (!r.allOf.every((k) => devices.some((d) => d.kind === k))) return false;
    const kinds = r.anyOf.length > 0 ? r.anyOf : r.allOf;
    const fits = devices.filter((d) => kinds.includes(d.kind) && (d.kind === CPU ||
      (d.memoryBytes >= r.deviceMemoryMinBytes && (r.deviceMemoryMaxBytes === 0n || d.memoryBytes <= r.deviceMemoryMaxBytes))));
    if (kinds.length > 0 && fits.length < Math.max(1, r.deviceCount)) return false;
    const l = w.labels;
    return r.selectors.every((s) => {
      const has = Object.hasOwn(l, s.key);
      if (s.operator === SelectorOperator.EXISTS) return has;
      if (s.operator === SelectorOperator.DOES_NOT_EXIST) return !has;
      const inSet = has && s.values.includes(l[s.key]);
      return s.operator === SelectorOperator.EQUALS || s.operator === SelectorOperator.IN ? inSet : !inSet;
    });
  }

  it('agrees with a naive reading, and refuses with a verdict other than able', () => {
    fc.assert(
      fc.property(workerArb, rangedArb, (w, r) => {
        const refusal = firstRefusal(r, w);
        expect(refusal === undefined).toBe(naive(r, w));
        if (refusal) {
          expect(refusal.reason.length).toBeGreaterThan(0);
          expect(refusal.verdict).not.toBe(Verdict.ABLE);
          if (w.state === WorkerState.ONLINE) expect(refusal.verdict).not.toBe(Verdict.UNSPECIFIED);
        }
      }),
      { seed, numRuns: 1000 },
    );
  });
});
