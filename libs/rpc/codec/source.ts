/*
 * The only ways generated codec source mentions a value taken from a
 * descriptor. Names and numbers in descriptors come from .proto files, which
 * protoc has validated, but the generated source must not depend on that: a
 * name is emitted as a property access only when it is a plain identifier and
 * as a JSON string literal otherwise, and a number only when it is an integer.
 */

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `obj.name`, or `obj["name"]` when `name` is not a plain identifier. */
export function member(obj: string, name: string): string {
  return identifier.test(name) ? `${obj}.${name}` : `${obj}[${JSON.stringify(name)}]`;
}

/** `name` as an object literal key; computed when not a plain identifier, so `__proto__` is a key too. */
export function key(name: string): string {
  return identifier.test(name) && name !== '__proto__' ? name : `[${JSON.stringify(name)}]`;
}

/** A string as a JavaScript string literal. */
export function str(s: string): string {
  return JSON.stringify(s);
}

/** A non-negative safe integer as a literal; anything else is a bug in the caller. */
export function int(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`codec source: ${n} is not a non-negative integer`);
  return String(n);
}

/**
 * Compiles generated source into a function of `runtime`'s members. The source
 * is built only from the helpers above and fixed text, never from message data.
 */
export function compile<T>(source: string, runtime: Record<string, unknown>): T {
  const names = Object.keys(runtime);
  for (const n of names) if (!identifier.test(n)) throw new Error(`codec source: runtime name ${JSON.stringify(n)} is not an identifier`);
  const factory = new Function(...names, `'use strict';\n${source}`) as (...args: unknown[]) => T;
  return factory(...names.map((n) => runtime[n]));
}
