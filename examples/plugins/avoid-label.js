'use strict';
/*
 * An example scheduler plug-in (see libs/scheduling/README.md, "Plug-ins").
 *
 * - Checker "avoid": keeps tasks off workers that carry a label, by default
 *   maintenance=true, so an operator can fence a machine off by restarting its
 *   worker with `--label maintenance=true` and still run tasks on it on purpose:
 *   a task whose requirements name the label key (labels or selectors) is let
 *   through, and its own requirements decide.
 * - Ranker "least-utilised": prefers workers with more of their CPU, memory and
 *   devices free, spreading load instead of packing it.
 *
 * Load it with `dtf coordinator --scheduler-plugin examples/plugins/avoid-label.js`
 * (or DTF_SCHEDULER_PLUGINS=examples/plugins/avoid-label.js). Set
 * DTF_AVOID_LABEL=key=value to avoid another label; it is read once, at load,
 * so every answer of the checker stays the same for the same worker.
 */

const [avoidKey, avoidValue] = splitLabel(process.env.DTF_AVOID_LABEL || 'maintenance=true');

/** The most a worker gains from being idle; preferences in suites weigh ±1000 at most. */
const idleScoreMax = 10;

function splitLabel(text) {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new Error(`DTF_AVOID_LABEL=${JSON.stringify(text)}: expected key=value, e.g. maintenance=true`);
  return [text.slice(0, eq).trim(), text.slice(eq + 1).trim()];
}

/** Whether the task's requirements say anything about the label key. */
function asksAbout(req, key) {
  if (!req) return false;
  return Object.prototype.hasOwnProperty.call(req.labels, key) || req.selectors.some((s) => s.key === key);
}

module.exports = {
  name: 'avoid-label',
  checkers: [
    {
      name: 'avoid',
      check(req, worker) {
        const labels = worker.labels;
        if (!Object.prototype.hasOwnProperty.call(labels, avoidKey) || labels[avoidKey] !== avoidValue) return undefined;
        if (asksAbout(req, avoidKey)) return undefined;
        // Verdict 0 (unspecified): DTF records it as VERDICT_PLUGIN, with this plug-in's name before the reason.
        return { verdict: 0, reason: `worker is labelled ${avoidKey}=${avoidValue}` };
      },
    },
  ],
  rankers: [
    {
      name: 'least-utilised',
      score(_task, _worker, room) {
        return Math.round((1 - room.utilisation) * idleScoreMax);
      },
    },
  ],
};
