import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Verdict } from '../gen/dtf/scheduler/v1/scheduler_service_pb';
import { firstRefusal } from './feasibility';
import { parseSelector } from './label-selector';
import { loadPlugins, pluginPaths, pluginsMax } from './load-plugins';
import type { SchedulerPlugin } from './plugin';
import { pluginCheckers, pluginRankers } from './plugin-guards';
import { req, task, worker } from './test-workers';

const repo = resolve(__dirname, '../..');
const example = 'examples/plugins/avoid-label.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dtf-plugins-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a plug-in file into the temporary directory and returns its name there. */
async function pluginFile(name: string, text: string): Promise<string> {
  await writeFile(join(dir, name), text);
  return name;
}

describe('examples/plugins/avoid-label.js', () => {
  let plugin: SchedulerPlugin;
  beforeAll(() => {
    [plugin] = loadPlugins([example], repo);
  });

  it('loads with one checker and one ranker', () => {
    expect(plugin.name).toBe('avoid-label');
    expect(plugin.checkers?.map((c) => c.name)).toEqual(['avoid']);
    expect(plugin.rankers?.map((r) => r.name)).toEqual(['least-utilised']);
  });

  it('keeps tasks off workers labelled maintenance=true, unless the task asks about that label', () => {
    const checkers = pluginCheckers([plugin]);
    const fenced = worker({ id: 'fenced', labels: { maintenance: 'true', os: 'linux' } });
    const done = worker({ id: 'done', labels: { maintenance: 'false' } });
    const plain = worker({ id: 'plain' });
    expect(firstRefusal(req({}), fenced, checkers)).toEqual({ verdict: Verdict.PLUGIN, reason: 'avoid-label: worker is labelled maintenance=true' });
    expect(firstRefusal(undefined, fenced, checkers)?.verdict).toBe(Verdict.PLUGIN);
    expect(firstRefusal(req({}), done, checkers)).toBeUndefined();
    expect(firstRefusal(req({}), plain, checkers)).toBeUndefined();
    expect(firstRefusal(req({ labels: { maintenance: 'true' } }), fenced, checkers)).toBeUndefined();
    expect(firstRefusal(req({ selectors: [parseSelector('maintenance')] }), fenced, checkers)).toBeUndefined();
    // The built-in checkers still apply first: a task that avoids the label is refused by its own selector.
    expect(firstRefusal(req({ selectors: [parseSelector('!maintenance')] }), fenced, checkers)?.verdict).toBe(Verdict.LABEL_MISMATCH);
  });

  it('prefers less utilised workers', () => {
    const [ranker] = pluginRankers([plugin]);
    const w = worker({ id: 'w' });
    const scores = [0, 0.2, 0.5, 1].map((utilisation) => ranker.score(task('t'), w, { slots: 1, utilisation }));
    expect(scores).toEqual([10, 8, 5, 0]);
  });

  it('avoids the label named in DTF_AVOID_LABEL, read once at load', () => {
    const before = process.env.DTF_AVOID_LABEL;
    process.env.DTF_AVOID_LABEL = 'pool=retired';
    try {
      jest.isolateModules(() => {
        const checkers = pluginCheckers(loadPlugins([example], repo));
        expect(firstRefusal(undefined, worker({ id: 'r', labels: { pool: 'retired' } }), checkers)?.reason).toBe('avoid-label: worker is labelled pool=retired');
        expect(firstRefusal(undefined, worker({ id: 'm', labels: { maintenance: 'true' } }), checkers)).toBeUndefined();
      });
      process.env.DTF_AVOID_LABEL = 'nonsense';
      jest.isolateModules(() => {
        expect(() => loadPlugins([example], repo)).toThrow(`scheduler plug-in ${example}: cannot load`);
      });
    } finally {
      if (before === undefined) delete process.env.DTF_AVOID_LABEL;
      else process.env.DTF_AVOID_LABEL = before;
    }
  });
});

describe('loadPlugins', () => {
  it('accepts module.exports, exports.default, absolute paths and TypeScript', async () => {
    await pluginFile('cjs.js', "module.exports = { name: 'cjs', rankers: [{ name: 'r', score: () => 1 }] };");
    await pluginFile('dflt.js', "exports.default = { name: 'dflt', checkers: [{ name: 'c', check: () => undefined }] };");
    await pluginFile('typed.ts', [
      "import type { SchedulerPlugin } from '" + resolve(__dirname, 'plugin') + "';",
      "const plugin: SchedulerPlugin = { name: 'typed', rankers: [{ name: 'r', score: (_t, w) => w.id.length }] };",
      'export default plugin;',
    ].join('\n'));
    const plugins = loadPlugins(['cjs.js', join(dir, 'dflt.js'), 'typed.ts'], dir);
    expect(plugins.map((p) => p.name)).toEqual(['cjs', 'dflt', 'typed']);
    expect(plugins[2].rankers?.[0].score(task('t'), worker({ id: 'abc' }), { slots: 1, utilisation: 0 })).toBe(3);
    expect(loadPlugins([], dir)).toEqual([]);
  });

  it.each([
    ['not-object.js', 'module.exports = 42;', 'exports a number, not a plug-in object'],
    ['nothing.js', '', 'has no name (a non-empty string)'],
    ['no-name.js', "module.exports = { checkers: [] };", 'has no name (a non-empty string)'],
    ['empty.js', "module.exports = { name: 'e' };", '"e" has neither checkers nor rankers'],
    ['list.js', "module.exports = { name: 'l', checkers: { name: 'c' } };", 'checkers is an object, not a list'],
    ['item.js', "module.exports = { name: 'i', rankers: ['r'] };", 'rankers[0] is a string, not an object'],
    ['unnamed.js', "module.exports = { name: 'u', checkers: [{ check() {} }] };", 'checkers[0] has no name (a non-empty string)'],
    ['no-fn.js', "module.exports = { name: 'n', checkers: [{ name: 'c', check: true }] };", 'checkers[0] (c) has no check function'],
    ['no-score.js', "module.exports = { name: 'n', rankers: [{ name: 'r', rank() {} }] };", 'rankers[0] (r) has no score function'],
    ['throws.js', "throw new Error('bad config\\nmore');", /cannot load .*throws\.js: bad config$/],
    ['syntax.js', 'module.exports = {', /cannot load .*syntax\.js: /],
  ])('names the file and the problem: %s', async (name, text, why) => {
    await pluginFile(name, text);
    let message = '';
    try {
      loadPlugins([name], dir);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message.startsWith(`scheduler plug-in ${name}: `)).toBe(true);
    if (typeof why === 'string') expect(message).toContain(why);
    else expect(message).toMatch(why);
  });

  it('refuses a missing file, two plug-ins of one name, and too many', async () => {
    expect(() => loadPlugins(['missing.js'], dir)).toThrow(`scheduler plug-in missing.js: cannot load ${join(dir, 'missing.js')}: Cannot find module`);
    await pluginFile('twin.js', "module.exports = { name: 'cjs', rankers: [{ name: 'r', score: () => 1 }] };");
    await pluginFile('cjs2.js', "module.exports = { name: 'cjs', rankers: [{ name: 'r', score: () => 1 }] };");
    expect(() => loadPlugins(['cjs2.js', 'twin.js'], dir)).toThrow('scheduler plug-in twin.js: the name "cjs" is already taken by cjs2.js');
    expect(() => loadPlugins(Array.from({ length: pluginsMax + 1 }, () => 'cjs2.js'), dir)).toThrow(`at most ${pluginsMax}`);
  });
});

describe('pluginPaths', () => {
  it('takes the flags, or else the comma-separated environment variable', () => {
    expect(pluginPaths(['a.js'], { DTF_SCHEDULER_PLUGINS: 'b.js' })).toEqual(['a.js']);
    expect(pluginPaths([], { DTF_SCHEDULER_PLUGINS: ' b.js, ./c.ts ,,' })).toEqual(['b.js', './c.ts']);
    expect(pluginPaths([], {})).toEqual([]);
  });
});
