import { DeviceKind, type Requirements } from '../../libs/gen/dtf/common/v1/common_pb';
import { selectorProblems, selectorsPerTaskMax } from '../../libs/scheduling/label-selector';
import { preferencesMax, preferenceWeightMax } from '../../libs/scheduling/preferences';

/** Most exact-match labels one task may ask for. */
export const requiredLabelsMax = 64;
/** Longest label key or value a task may ask for (a worker's `--label` has the same bound). */
export const labelCharsMax = 256;
/** Most accelerator devices one task may ask for. */
export const deviceCountMax = 64;

/**
 * What is wrong with a task's requirements, each problem naming its field
 * under `at` (e.g. `tasks[2].requirements`):
 * `tasks[2].requirements.selectors[0].values: "in" needs at least one value`.
 */
export function requirementsProblems(r: Requirements, at: string): string[] {
  const p: string[] = [];
  deviceKindProblems(r.anyOf, `${at}.any_of`, p);
  deviceKindProblems(r.allOf, `${at}.all_of`, p);
  if (r.deviceCount > deviceCountMax) p.push(`${at}.device_count: ${r.deviceCount} is over ${deviceCountMax}`);
  if (r.deviceMemoryMaxBytes !== 0n && r.deviceMemoryMinBytes > r.deviceMemoryMaxBytes) {
    p.push(`${at}: device_memory_min_bytes ${r.deviceMemoryMinBytes} is over device_memory_max_bytes ${r.deviceMemoryMaxBytes}; no device can fit`);
  }
  const labels = Object.entries(r.labels);
  if (labels.length > requiredLabelsMax) p.push(`${at}.labels: ${labels.length} labels; at most ${requiredLabelsMax}`);
  for (const [k, v] of labels.slice(0, requiredLabelsMax)) {
    if (k === '' || k.length > labelCharsMax || v.length > labelCharsMax) {
      p.push(`${at}.labels: key ${JSON.stringify(k.slice(0, 40))} must be 1 to ${labelCharsMax} characters and its value at most ${labelCharsMax}`);
    }
  }
  if (r.selectors.length > selectorsPerTaskMax) p.push(`${at}.selectors: ${r.selectors.length} selectors; at most ${selectorsPerTaskMax}`);
  r.selectors.slice(0, selectorsPerTaskMax).forEach((s, i) => {
    for (const why of selectorProblems(s)) p.push(`${at}.selectors[${i}].${why}`);
  });
  if (r.preferences.length > preferencesMax) p.push(`${at}.preferences: ${r.preferences.length} preferences; at most ${preferencesMax}`);
  r.preferences.slice(0, preferencesMax).forEach((pref, i) => {
    const here = `${at}.preferences[${i}]`;
    if (Math.abs(pref.weight) > preferenceWeightMax) p.push(`${here}.weight: ${pref.weight} is outside ±${preferenceWeightMax}`);
    const kind = pref.kind;
    if (kind.case === 'label') for (const why of selectorProblems(kind.value)) p.push(`${here}.label.${why}`);
    else if (kind.case === 'device') deviceKindProblems([kind.value], `${here}.device`, p, false);
    else p.push(`${here}: set label or device`);
  });
  return p;
}

function deviceKindProblems(kinds: DeviceKind[], at: string, p: string[], indexed = true): void {
  kinds.forEach((k, i) => {
    if (k === DeviceKind.UNSPECIFIED || DeviceKind[k] === undefined) {
      p.push(`${at}${indexed ? `[${i}]` : ''}: ${k} is not a device kind`);
    }
  });
}
