import { create } from '@bufbuild/protobuf';
import { DeviceKind, PreferenceSchema, type Preference } from '../gen/dtf/common/v1/common_pb';
import { parseSelector } from './label-selector';
import { preferenceRanker, preferenceScore } from './preferences';
import { GiB, req, task, worker } from './test-workers';

const { CPU, CUDA, ROCM } = DeviceKind;

const label = (text: string, weight = 1): Preference => create(PreferenceSchema, { weight, kind: { case: 'label', value: parseSelector(text) } });
const device = (kind: DeviceKind, weight = 1): Preference => create(PreferenceSchema, { weight, kind: { case: 'device', value: kind } });

describe('preferenceScore', () => {
  const gpu = worker({ id: 'gpu', labels: { zone: 'a', spot: 'true' }, devices: [[CPU, 0n], [CUDA, 40n * GiB]] });
  const plain = worker({ id: 'plain', labels: { zone: 'b' } });

  it.each<[string, Preference[], number, number]>([
    ['nothing preferred', [], 0, 0],
    ['a label', [label('zone=a', 5)], 5, 0],
    ['a device', [device(CUDA, 3)], 3, 0],
    ['a device everyone has', [device(CPU, 2)], 2, 2],
    ['a device nobody has', [device(ROCM, 7)], 0, 0],
    ['weight 1 by default in the suite, summed', [label('zone in (a, b)'), device(CUDA)], 2, 1],
    ['a negative weight pushes away', [label('spot', -10), device(CUDA, 4)], -6, 0],
    ['a negated selector', [label('!spot', 2)], 0, 2],
    ['a preference with no kind counts for nothing', [create(PreferenceSchema, { weight: 9 })], 0, 0],
  ])('%s', (_name, preferences, gpuScore, plainScore) => {
    const r = req({ preferences });
    expect(preferenceScore(r, gpu)).toBe(gpuScore);
    expect(preferenceScore(r, plain)).toBe(plainScore);
  });

  it('scores a task without requirements 0, and ranks through the task spec', () => {
    expect(preferenceScore(undefined, gpu)).toBe(0);
    const t = task('t', { preferences: [device(CUDA, 3)] });
    expect(preferenceRanker.score(t, gpu, { slots: 1, utilisation: 0 })).toBe(3);
    expect(preferenceRanker.score(t, plain, { slots: 1, utilisation: 0 })).toBe(0);
  });
});
