import { resolve } from 'node:path';
import type { FeasibilityChecker, Ranker, SchedulerPlugin } from './plugin';

/** The environment variable naming plug-in files, comma-separated, when no flag does. */
export const schedulerPluginsEnv = 'DTF_SCHEDULER_PLUGINS';
/** A site runs a handful of plug-ins; dozens would make every placement slow. */
export const pluginsMax = 16;

/**
 * Loads scheduler plug-ins from files: each path (absolute, or relative to
 * `cwd`) is `require()`d, and its `module.exports` — or its `default`
 * export — must be a {@link SchedulerPlugin}. `.js` files load anywhere;
 * `.ts` files load where tsx is the runtime (the `dtf` command). Throws an
 * Error naming the file and what is wrong with it, so a coordinator never
 * starts with half its policy.
 */
export function loadPlugins(paths: readonly string[], cwd: string = process.cwd()): SchedulerPlugin[] {
  if (paths.length > pluginsMax) throw new Error(`scheduler plug-ins: ${paths.length} given; at most ${pluginsMax}`);
  const plugins: SchedulerPlugin[] = [];
  const files = new Map<string, string>();
  for (const path of paths) {
    const file = resolve(cwd, path);
    let loaded: unknown;
    try {
      loaded = require(file);
    } catch (e) {
      throw new Error(`scheduler plug-in ${path}: cannot load ${file}: ${firstLine(e)}`);
    }
    const plugin = pluginOf(loaded, path);
    const first = files.get(plugin.name);
    if (first !== undefined) throw new Error(`scheduler plug-in ${path}: the name "${plugin.name}" is already taken by ${first}; give each plug-in its own name`);
    files.set(plugin.name, path);
    plugins.push(plugin);
  }
  return plugins;
}

/** The plug-in files to load: the flag's values, or else those in `$DTF_SCHEDULER_PLUGINS`. */
export function pluginPaths(flagValues: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  if (flagValues.length > 0) return [...flagValues];
  return (env[schedulerPluginsEnv] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** Checks the shape of what a file exported; the message says what to fix, and where. */
function pluginOf(loaded: unknown, path: string): SchedulerPlugin {
  const fail = (what: string): never => {
    throw new Error(`scheduler plug-in ${path}: ${what}; export { name, checkers?: [{ name, check(req, worker) }], rankers?: [{ name, score(task, worker, room) }] }`);
  };
  const mod = isObject(loaded) && isObject(loaded.default) ? loaded.default : loaded;
  if (!isObject(mod)) return fail(`exports ${describe(mod)}, not a plug-in object`);
  if (typeof mod.name !== 'string' || mod.name.trim() === '') return fail('has no name (a non-empty string)');
  const checkers = parts(mod.checkers, 'checkers', 'check', fail) as FeasibilityChecker[] | undefined;
  const rankers = parts(mod.rankers, 'rankers', 'score', fail) as Ranker[] | undefined;
  if (!checkers?.length && !rankers?.length) fail(`"${mod.name}" has neither checkers nor rankers`);
  return { name: mod.name, checkers, rankers };
}

function parts(value: unknown, field: string, method: string, fail: (what: string) => never): Record<string, unknown>[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) return fail(`${field} is ${describe(value)}, not a list`);
  value.forEach((item: unknown, i) => {
    if (!isObject(item)) return fail(`${field}[${i}] is ${describe(item)}, not an object`);
    if (typeof item.name !== 'string' || item.name === '') fail(`${field}[${i}] has no name (a non-empty string)`);
    if (typeof item[method] !== 'function') fail(`${field}[${i}] (${String(item.name)}) has no ${method} function`);
  });
  return value as Record<string, unknown>[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}
