import { Verdict } from '../gen/dtf/scheduler/v1/scheduler_service_pb';
import { firstRefusal } from './feasibility';
import type { FeasibilityChecker, Ranker, SchedulerPlugin } from './plugin';
import { pluginCheckers, pluginRankers, pluginScoreMax } from './plugin-guards';
import { task, worker } from './test-workers';

describe('pluginCheckers', () => {
  const w = worker({ id: 'w', labels: { maintenance: 'true' } });
  const plugin = (checkers: FeasibilityChecker[]): SchedulerPlugin => ({ name: 'site', checkers });
  const check = (c: FeasibilityChecker['check']) => firstRefusal(undefined, w, pluginCheckers([plugin([{ name: 'c', check: c }])]));

  it('names checkers plugin/checker and prefixes reasons with the plug-in name', () => {
    const [c] = pluginCheckers([plugin([{ name: 'maint', check: () => ({ verdict: Verdict.UNSPECIFIED, reason: 'in maintenance' }) }])]);
    expect(c.name).toBe('site/maint');
    expect(c.check(undefined, w)).toEqual({ verdict: Verdict.PLUGIN, reason: 'site: in maintenance' });
    expect(pluginCheckers([{ name: 'rank-only', rankers: [] }, plugin([])])).toEqual([]);
  });

  it('keeps a meaningful verdict and replaces a missing, "able" or unknown one', () => {
    expect(check(() => ({ verdict: Verdict.LABEL_MISMATCH, reason: 'x' }))?.verdict).toBe(Verdict.LABEL_MISMATCH);
    expect(check(() => ({ verdict: Verdict.ABLE, reason: 'x' }))?.verdict).toBe(Verdict.PLUGIN);
    expect(check(() => ({ verdict: 999 as Verdict, reason: 'x' }))?.verdict).toBe(Verdict.PLUGIN);
    expect(check(() => ({ reason: 'x' }) as never)).toEqual({ verdict: Verdict.PLUGIN, reason: 'site: x' });
    expect(check(() => undefined)).toBeUndefined();
    expect(check(() => null as never)).toBeUndefined();
  });

  it('turns a checker that throws or returns nonsense into a refusal that says so', () => {
    expect(check(() => {
      throw new Error('boom');
    })).toEqual({ verdict: Verdict.PLUGIN, reason: 'site: checker c failed: boom' });
    expect(check(() => 'no' as never)).toEqual({ verdict: Verdict.PLUGIN, reason: 'site: checker c returned something other than {verdict, reason}' });
  });
});

describe('pluginRankers', () => {
  const w = worker({ id: 'w' });
  const room = { slots: 1, utilisation: 0.5 };
  const score = (s: Ranker['score']) => pluginRankers([{ name: 'site', rankers: [{ name: 'r', score: s }] }])[0].score(task('t'), w, room);

  it('names rankers plugin/ranker and passes scores through', () => {
    const [r] = pluginRankers([{ name: 'site', rankers: [{ name: 'idle', score: (_t, _w, rm) => 10 * (1 - rm.utilisation) }] }]);
    expect(r.name).toBe('site/idle');
    expect(r.score(task('t'), w, room)).toBe(5);
    expect(score(() => -3)).toBe(-3);
  });

  it('scores 0 for a ranker that throws or returns no number, and clamps huge scores', () => {
    expect(score(() => {
      throw new Error('boom');
    })).toBe(0);
    expect(score(() => NaN)).toBe(0);
    expect(score(() => Infinity)).toBe(0);
    expect(score(() => '7' as never)).toBe(0);
    expect(score(() => 1e12)).toBe(pluginScoreMax);
    expect(score(() => -1e12)).toBe(-pluginScoreMax);
  });
});
