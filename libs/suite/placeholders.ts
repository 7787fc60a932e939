/**
 * `{name}` placeholders in suite strings. Only identifiers count, so shell
 * text such as `awk '{print $1}'` passes through; `${VAR}` is left for the
 * shell, and `{{` / `}}` write literal braces.
 */
const placeholderPattern = /\{\{|\}\}|(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The result of filling one string: the text, and any placeholder names with no value. */
export interface Filled {
  text: string;
  unknown: string[];
}

/** Replaces each `{name}` with `values[name]`; names without a value are reported, left as written. */
export function fillPlaceholders(template: string, values: Readonly<Record<string, string>>): Filled {
  const unknown: string[] = [];
  const text = template.replace(placeholderPattern, (match: string, dollar: string | undefined, name: string | undefined) => {
    if (match === '{{') return '{';
    if (match === '}}') return '}';
    if (dollar || name === undefined) return match;
    if (Object.prototype.hasOwnProperty.call(values, name)) return values[name];
    unknown.push(name);
    return match;
  });
  return { text, unknown };
}
