import type { DescEnum } from '@bufbuild/protobuf';

/**
 * Readable names for protobuf enum values, as stored in DuckDB columns:
 * `TASK_STATE_SUCCEEDED` becomes `succeeded`, so that people writing SQL by
 * hand compare against words rather than numbers that only the proto defines.
 */
export interface EnumNames<E extends number> {
  /** The stored name of a value; unknown numbers become `unknown_<n>` so nothing is lost. */
  name(value: E): string;
  /** The value for a stored name; unknown names map to 0 (UNSPECIFIED). */
  value(name: string): E;
}

/** Builds the two-way mapping once per enum; lookups are then plain map reads. */
export function enumNames<E extends number>(schema: DescEnum): EnumNames<E> {
  const byValue = new Map<number, string>();
  const byName = new Map<string, number>();
  for (const v of schema.values) {
    const name = v.localName.toLowerCase();
    byValue.set(v.number, name);
    byName.set(name, v.number);
  }
  return {
    name: (value) => byValue.get(value) ?? `unknown_${value}`,
    value: (name) => (byName.get(name) ?? 0) as E,
  };
}
