/** Labels a worker carries (`os=linux`, `pool=gpu-lab`), given as repeated `--label k=v` flags. */

/** At most this many labels; a worker with more is almost certainly misconfigured. */
export const labelCountMax = 256;
/** Longest key or value accepted, in characters. */
export const labelCharsMax = 256;

/**
 * Parses `--label` flag values into a map.
 *
 * Throws an Error naming the offending flag and saying what to do, e.g.
 * `--label "foo": expected key=value`. A key given twice is an error rather than "last
 * wins", because the scheduler matches labels exactly and a silent override hides a typo.
 */
export function parseLabels(values: readonly string[]): Record<string, string> {
  if (values.length > labelCountMax) {
    throw new Error(`--label: ${values.length} labels given; at most ${labelCountMax} are allowed`);
  }
  // A null-prototype object, so a key like "__proto__" is stored as data, not as a prototype.
  const labels = Object.create(null) as Record<string, string>;
  for (const raw of values) {
    const eq = raw.indexOf('=');
    if (eq < 0) {
      throw new Error(`--label ${JSON.stringify(raw)}: expected key=value`);
    }
    const key = raw.slice(0, eq).trim();
    const value = raw.slice(eq + 1).trim();
    if (key === '') {
      throw new Error(`--label ${JSON.stringify(raw)}: the key is empty; expected key=value`);
    }
    if (key.length > labelCharsMax || value.length > labelCharsMax) {
      throw new Error(`--label ${JSON.stringify(raw)}: key and value must each be at most ${labelCharsMax} characters`);
    }
    if (Object.prototype.hasOwnProperty.call(labels, key)) {
      throw new Error(`--label ${JSON.stringify(raw)}: key "${key}" is given twice; give each key once`);
    }
    labels[key] = value;
  }
  return labels;
}
