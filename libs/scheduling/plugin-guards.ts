import { Verdict } from '../gen/dtf/scheduler/v1/scheduler_service_pb';
import type { FeasibilityChecker, Ranker, Refusal, SchedulerPlugin } from './plugin';

/*
 * A site's plug-ins run inside the scheduler's placement loop. These wrappers
 * keep a bug in one from stopping placement or from hiding whose it was.
 */

/**
 * The checkers of `plugins`, in order, each named `plugin/checker` and made
 * safe to call from the scheduler: a refusal's reason is prefixed with the
 * plug-in's name, a missing verdict becomes {@link Verdict.PLUGIN}, and a
 * checker that throws or returns something other than a refusal refuses the
 * worker with a reason that says so, rather than stopping placement.
 */
export function pluginCheckers(plugins: readonly SchedulerPlugin[]): FeasibilityChecker[] {
  return plugins.flatMap((p) => (p.checkers ?? []).map((c): FeasibilityChecker => ({
    name: `${p.name}/${c.name}`,
    check(req, worker) {
      let r: unknown;
      try {
        r = c.check(req, worker);
      } catch (e) {
        return { verdict: Verdict.PLUGIN, reason: `${p.name}: checker ${c.name} failed: ${(e as Error)?.message ?? String(e)}` };
      }
      if (r === undefined || r === null) return undefined;
      const { verdict, reason } = r as Partial<Refusal>;
      if (typeof reason !== 'string' || (verdict !== undefined && typeof verdict !== 'number')) {
        return { verdict: Verdict.PLUGIN, reason: `${p.name}: checker ${c.name} returned something other than {verdict, reason}` };
      }
      // A refusal says the worker cannot run the task; "able" or an unknown verdict is not one.
      const known = verdict !== undefined && verdict !== Verdict.UNSPECIFIED && verdict !== Verdict.ABLE && Verdict[verdict] !== undefined;
      return { verdict: known ? verdict : Verdict.PLUGIN, reason: `${p.name}: ${reason}` };
    },
  })));
}

/** Plug-in scores are clamped to ±this, so one plug-in cannot drown every other ranker. */
export const pluginScoreMax = 1_000_000;

/**
 * The rankers of `plugins`, in order, each named `plugin/ranker`. A ranker
 * that throws or returns something other than a finite number scores 0 (the
 * worker stays feasible; ranking is only a preference), and a score is
 * clamped to ±{@link pluginScoreMax}.
 */
export function pluginRankers(plugins: readonly SchedulerPlugin[]): Ranker[] {
  return plugins.flatMap((p) => (p.rankers ?? []).map((r): Ranker => ({
    name: `${p.name}/${r.name}`,
    score(task, worker, room) {
      let s: unknown;
      try {
        s = r.score(task, worker, room);
      } catch {
        return 0;
      }
      if (typeof s !== 'number' || !Number.isFinite(s)) return 0;
      return Math.max(-pluginScoreMax, Math.min(pluginScoreMax, s));
    },
  })));
}
