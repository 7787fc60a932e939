/**
 * Scheduling policy, shown on the deterministic simulator (scheduling-sim.ts)
 * with the traces of scheduling-traces.ts: fair share between tenants (and
 * by weight), aging against starvation, EDF against FIFO, DAG order and skip
 * propagation, the circuit breaker, load shedding at the queue bounds, and
 * resource accounting. The simulator checks slots, resources, dependency
 * order, backoff and quarantine at every instant of every trace.
 *
 * A failure names its trace and seed; `SEED=n npx jest test/sim/scheduling
 * -t '<trace>'` replays it. `SIM_REPORT=1` prints each trace's figures.
 */
import { AttemptOutcome, JobState, TaskState } from '../../libs/gen/dtf/common/v1/common_pb';
import { capacityOf, demandOf } from '../../libs/scheduling/resources';
import { jainIndex, seedsFor, workerTime } from './scheduling-measures';
import { simStartMs, type AttemptRecord, type SchedulingSim } from './scheduling-sim';
import { breakerTrace, dagTrace, deadlineTrace, fairShareTrace, resourcesTrace, sheddingTrace, starvationTrace } from './scheduling-traces';

function report(trace: string, figures: Record<string, unknown>): void {
  if (process.env.SIM_REPORT) process.stdout.write(`${trace}: ${JSON.stringify(figures)}\n`);
}

/** Runs a check of one seed; a failed expectation names the trace and seed. */
function replayable(trace: string, seed: number, check: () => void): void {
  try {
    check();
  } catch (e) {
    const err = e as Error;
    if (!err.message.includes('replay:')) err.message = `[${trace}, seed ${seed}]\n  replay: SEED=${seed} npx jest test/sim/scheduling -t '${trace}'\n${err.message}`;
    throw err;
  }
}

/** First start of each task. */
function firstStarts(attempts: AttemptRecord[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const a of attempts) if (!out.has(a.taskId)) out.set(a.taskId, a.startMs);
  return out;
}

/** Tracks the interval during which every tenant has work queued. */
function contention(sim: SchedulingSim, tenants: string[]): { fromMs: number; toMs: number } {
  const w = { fromMs: NaN, toMs: NaN };
  sim.observe((s) => {
    const all = tenants.every((t) => s.state.tenantUsage(t).queued > 0);
    if (all && Number.isNaN(w.fromMs)) w.fromMs = s.nowMs;
    if (!all && !Number.isNaN(w.fromMs) && Number.isNaN(w.toMs)) w.toMs = s.nowMs;
  });
  return w;
}

describe('scheduling simulation', () => {
  it('replays: the same seed gives the same run, another seed another', () => {
    const runOf = (seed: number) => {
      const { sim } = dagTrace(seed, 'replay');
      sim.run();
      return JSON.stringify(sim.attempts);
    };
    expect(runOf(5)).toBe(runOf(5));
    expect(runOf(5)).not.toBe(runOf(6));
  });

  const fairShare = 'fair share: equal tenants';
  it(fairShare, () => {
    for (const seed of seedsFor([11, 12])) {
      replayable(fairShare, seed, () => {
        const { sim, tenants, weights, endMs } = fairShareTrace(seed, fairShare, { big: 1, small: 1, mid: 1 });
        const window = contention(sim, tenants);
        sim.run(endMs);
        // All three had a backlog from the first second to the end of arrivals.
        expect(window.fromMs - simStartMs).toBeLessThan(1000);
        expect(Number.isNaN(window.toMs)).toBe(true);
        const time = workerTime(sim.attempts, window.fromMs, endMs, (a) => a.tenant);
        const shares = tenants.map((t) => (time.get(t) ?? 0) / weights[t]);
        const jain = jainIndex(shares);
        // Also over every 10 s window: fairness is not only an average.
        const windows: number[] = [];
        for (let t = endMs - 30_000; t < endMs; t += 10_000) {
          const wt = workerTime(sim.attempts, t, t + 10_000, (a) => a.tenant);
          windows.push(jainIndex(tenants.map((x) => wt.get(x) ?? 0)));
        }
        report(fairShare, { seed, jain, worstWindowJain: Math.min(...windows), workerSeconds: Object.fromEntries([...time].map(([k, v]) => [k, v / 1000])) });
        expect(jain).toBeGreaterThanOrEqual(0.9);
        expect(Math.min(...windows)).toBeGreaterThanOrEqual(0.9);
      });
    }
  });

  const weighted = 'fair share: weights 2 and 1';
  it(weighted, () => {
    for (const seed of seedsFor([21, 22])) {
      replayable(weighted, seed, () => {
        // The lighter tenant holds the huge job: weight, not job size, decides.
        const { sim, endMs } = fairShareTrace(seed, weighted, { small: 2, big: 1 });
        const window = contention(sim, ['small', 'big']);
        sim.run(endMs);
        expect(window.fromMs - simStartMs).toBeLessThan(1000);
        expect(Number.isNaN(window.toMs)).toBe(true);
        // Shares count running tasks, not history: the first second, when
        // `big` filled the fleet before `small` had a backlog, is not paid
        // back. Measured after a warm-up of five task lengths.
        const time = workerTime(sim.attempts, window.fromMs + 5000, endMs, (a) => a.tenant);
        const whole = workerTime(sim.attempts, window.fromMs, endMs, (a) => a.tenant);
        const ratio = time.get('small')! / time.get('big')!;
        const jain = jainIndex([time.get('small')! / 2, time.get('big')!]);
        report(weighted, { seed, ratio, jainOfWeighted: jain, ratioWithWarmUp: whole.get('small')! / whole.get('big')! });
        expect(ratio).toBeGreaterThan(1.9);
        expect(ratio).toBeLessThan(2.1);
        expect(jain).toBeGreaterThanOrEqual(0.95);
      });
    }
  });

  const aging = 'starvation: aging bounds the wait of low priority';
  it(aging, () => {
    const agingMs = 4000;
    for (const seed of seedsFor([31, 32])) {
      replayable(aging, seed, () => {
        const { sim, low, maxPriority, longestMs, loadEndMs } = starvationTrace(seed, aging, agingMs);
        let hiQueuedAtEnd = 0;
        sim.at(loadEndMs, () => (hiQueuedAtEnd = sim.state.tenantUsage('hi').queued));
        sim.run(loadEndMs);
        // The high-priority load saturated the fleet throughout.
        expect(hiQueuedAtEnd).toBeGreaterThan(300);
        const started = firstStarts(sim.attempts);
        // A level of priority p whose oldest task has waited w counts as
        // min(p + floor(w / agingMs), max) and, once aged to the top, goes
        // before every task that is not aged, oldest first. So a task waits
        // at most (max − p) × agingMs to reach the top, then at most until
        // the next slot frees: within the longest running task's duration,
        // as long as fewer aged tasks are ahead of it than the fleet has slots.
        const worst = new Map<number, { delayMs: number; boundMs: number }>();
        for (const t of low) {
          const boundMs = (maxPriority - t.priority) * agingMs + longestMs;
          const at = started.get(t.id);
          expect({ id: t.id, started: at !== undefined }).toEqual({ id: t.id, started: true });
          const delayMs = at! - t.submittedMs;
          expect({ id: t.id, delayMs, within: delayMs <= boundMs }).toEqual({ id: t.id, delayMs, within: true });
          if (delayMs >= (worst.get(t.priority)?.delayMs ?? -1)) worst.set(t.priority, { delayMs, boundMs });
        }
        report(aging, { seed, agingMs, longestMs, worstByPriority: Object.fromEntries(worst) });
      });
    }
  });

  const starve = 'starvation: without aging low priority waits for the high backlog';
  it(starve, () => {
    const seed = seedsFor([31])[0];
    replayable(starve, seed, () => {
      const { sim, low, loadEndMs } = starvationTrace(seed, starve, 0);
      let lastHiStart = 0;
      sim.run();
      for (const a of sim.attempts) if (a.tenant === 'hi') lastHiStart = Math.max(lastHiStart, a.startMs);
      const started = firstStarts(sim.attempts);
      const delays = low.map((t) => started.get(t.id)! - t.submittedMs);
      report(starve, { seed, lowestDelayMs: Math.min(...delays), loadEndMs: loadEndMs - simStartMs, lastHiStartMs: lastHiStart - simStartMs });
      // No low task starts while a high one is still queued: the first ones
      // start when the last high tasks do, long after the load stopped.
      for (const t of low) expect(started.get(t.id)!).toBeGreaterThanOrEqual(lastHiStart);
      expect(lastHiStart).toBeGreaterThan(loadEndMs);
      // Each waited longer than aging at 4 s would have let it (the bound above).
      for (const [i, t] of low.entries()) expect(delays[i]).toBeGreaterThan((3 - t.priority) * 4000 + 1500);
    });
  });

  const edf = 'EDF meets every deadline of a feasible trace; FIFO does not';
  it(edf, () => {
    const figures: Record<string, unknown>[] = [];
    for (const seed of seedsFor([41, 42, 43, 44, 45])) {
      replayable(edf, seed, () => {
        const misses = (withDeadlines: boolean) => {
          const { sim, tasks, durationMs } = deadlineTrace(seed, edf, withDeadlines, [4, 6]);
          sim.run();
          expect(sim.unfinished()).toEqual([]);
          const ends = new Map(sim.attempts.map((a) => [a.taskId, a.endMs]));
          expect(sim.attempts.every((a) => a.endMs - a.startMs === durationMs)).toBe(true);
          const missed = tasks.filter((t) => ends.get(t.id)! > t.deadlineMs).map((t) => t.id);
          const warned = tasks.filter((t) => sim.task(t.id).warnings.length > 0).map((t) => t.id);
          return { n: tasks.length, missed, warned };
        };
        const withEdf = misses(true);
        const fifo = misses(false);
        figures.push({ seed, tasks: withEdf.n, metEdf: withEdf.n - withEdf.missed.length, metFifo: fifo.n - fifo.missed.length });
        expect(withEdf.missed).toEqual([]);
        // Nothing was warned about: no task was ever late to start.
        expect(withEdf.warned).toEqual([]);
        expect(fifo.missed.length).toBeGreaterThan(0);
      });
    }
    report(edf, { runs: figures });
  });

  const overdue = 'EDF overloaded: exactly the tasks that miss are warned';
  it(overdue, () => {
    for (const seed of seedsFor([46, 47])) {
      replayable(overdue, seed, () => {
        const { sim, tasks } = deadlineTrace(seed, overdue, true, [6, 8]);
        sim.run();
        const ends = new Map(sim.attempts.map((a) => [a.taskId, a.endMs]));
        const missed = tasks.filter((t) => ends.get(t.id)! > t.deadlineMs).map((t) => t.id).sort();
        const warned = tasks.filter((t) => sim.task(t.id).warnings.some((w) => /deadline (can no longer be met|passed)/.test(w))).map((t) => t.id).sort();
        report(overdue, { seed, tasks: tasks.length, missed: missed.length });
        expect(missed.length).toBeGreaterThan(0);
        // CheckDeadlines runs before every round: a task that starts after its
        // latest start (deadline less predicted duration) has been warned.
        expect(warned).toEqual(missed);
      });
    }
  });

  const dag = 'DAG: order kept, failures skip every dependent and only them';
  it(dag, () => {
    for (const seed of seedsFor([51, 52, 53])) {
      replayable(dag, seed, () => {
        const { sim, deps, failing, flaky, backoffMs } = dagTrace(seed, dag);
        sim.run();
        expect(sim.unfinished()).toEqual([]);
        let skipped = 0;
        let waitedOn = 0;
        for (const [jobId, jobDeps] of deps) {
          // Transitive dependents of the failing tasks of this job.
          const doomed = new Set<string>();
          for (let grew = true; grew;) {
            grew = false;
            for (const [id, d] of jobDeps) {
              if (doomed.has(id) || !d.some((x) => failing.has(x) || doomed.has(x))) continue;
              doomed.add(id);
              grew = true;
            }
          }
          for (const [id, d] of jobDeps) {
            const t = sim.task(id);
            if (doomed.has(id)) {
              skipped++;
              expect([id, TaskState[t.state]]).toEqual([id, 'SKIPPED']);
              expect(sim.attempts.some((a) => a.taskId === id)).toBe(false);
              const m = /^skipped: dependency "([^"]+)" (did not succeed|was skipped)$/.exec(t.pendingReason);
              expect({ id, reason: t.pendingReason, ok: !!m }).toEqual({ id, reason: t.pendingReason, ok: true });
              const named = m![1];
              expect(d).toContain(named);
              expect(sim.task(named).state).toBe(m![2] === 'did not succeed' ? TaskState.FAILED : TaskState.SKIPPED);
            } else if (failing.has(id)) {
              expect([id, TaskState[t.state]]).toEqual([id, 'FAILED']);
            } else {
              expect([id, TaskState[t.state]]).toEqual([id, 'SUCCEEDED']);
              if (d.length > 0) waitedOn++;
            }
          }
          const job = sim.state.jobs.get(jobId)!.job;
          expect(JobState[job.state]).toBe(jobId === 'ok' ? 'SUCCEEDED' : 'FAILED');
        }
        // Retries wait out their backoff: initial × 2^(n−1), here n = 1.
        for (const id of flaky) {
          const [first, second] = sim.attempts.filter((a) => a.taskId === id);
          if (!first) continue;
          expect(first.outcome).toBe(AttemptOutcome.START_FAILED);
          expect(second.startMs - first.endMs).toBeGreaterThanOrEqual(backoffMs);
        }
        report(dag, { seed, skipped, succeededAfterDependencies: waitedOn, flaky: flaky.size });
        expect(skipped).toBeGreaterThan(0);
        expect(waitedOn).toBeGreaterThan(10);
      });
    }
  });

  const breaker = 'circuit breaker: quarantine, cool-down, one probe, restore';
  it(breaker, () => {
    const seed = seedsFor([61])[0];
    replayable(breaker, seed, () => {
      const { sim, bad, threshold, cooldownMs, healedMs, lossesMs, clearMs, loadEndMs } = breakerTrace(seed, breaker);
      interface Change { atMs: number; quarantined: boolean; untilMs: number; trips: number; reason: string }
      const changes: Change[] = [];
      sim.observe((s) => {
        const b = s.workerState(bad).breaker!;
        const last = changes.at(-1);
        if (!last || last.quarantined !== b.quarantined || last.untilMs !== Number(b.untilMs)) {
          changes.push({ atMs: s.nowMs, quarantined: b.quarantined, untilMs: Number(b.untilMs), trips: b.trips, reason: b.reason });
        }
      });
      sim.run();
      expect(sim.unfinished()).toEqual([]);
      expect(sim.nowMs).toBeGreaterThan(loadEndMs);
      const onBad = sim.attempts.filter((a) => a.workerId === bad);
      const trips = changes.filter((c) => c.quarantined);
      const rel = (t: number) => t - simStartMs;
      report(breaker, {
        seed,
        quarantines: trips.map((c) => ({ atMs: rel(c.atMs), cooldownMs: c.untilMs - c.atMs, trips: c.trips })),
        probes: onBad.filter((a) => a.probe).map((a) => ({ atMs: rel(a.startMs), outcome: AttemptOutcome[a.outcome] })),
        // Nothing wakes the dispatcher when a cool-down ends: the probe waits for the next event.
        probeWaitsMs: trips.slice(0, 3).map((q) => onBad.find((a) => a.startMs >= q.untilMs)!.startMs - q.untilMs),
      });
      // Tripped by start failures and timeouts: 10 s, 20 s, 40 s (doubling), then
      // restored by a good probe; tripped again by three losses: 10 s afresh.
      expect(trips.map((c) => c.untilMs - c.atMs)).toEqual([cooldownMs, 2 * cooldownMs, 4 * cooldownMs, cooldownMs]);
      expect(trips[0].reason).toMatch(new RegExp(`^${threshold} infrastructure failures in a row, the last: (start failed|timed out)`));
      expect(trips[3].reason).toMatch(/^3 infrastructure failures in a row, the last: worker lost/);
      expect(trips[3].atMs).toBe(lossesMs[2]);
      const infraBeforeFirstTrip = onBad.filter((a) => a.endMs <= trips[0].atMs).length;
      expect(infraBeforeFirstTrip).toBe(threshold);
      for (const [i, q] of trips.entries()) {
        // No start during the cool-down (the last one is cut short by hand).
        const endMs = i === 3 ? clearMs : q.untilMs;
        const during = onBad.filter((a) => a.startMs >= q.atMs && a.startMs < endMs);
        expect({ trip: i, during: during.length }).toEqual({ trip: i, during: 0 });
        if (i === 3) continue;
        // Then exactly one probe, alone, until its outcome is known.
        const after = onBad.filter((a) => a.startMs >= q.untilMs);
        const probe = after[0];
        expect(probe.probe).toBe(true);
        expect(after.filter((a) => a.startMs < probe.endMs)).toEqual([probe]);
        const next = changes.find((c) => c.atMs > q.atMs)!;
        expect(next.atMs).toBe(probe.endMs);
        expect(next.quarantined).toBe(probe.startMs < healedMs);
      }
      // After the good probe it runs two at a time again.
      const restored = trips[2].untilMs;
      expect(onBad.some((a) => a.startMs > restored && onBad.some((b) => b !== a && b.startMs <= a.startMs && b.endMs > a.startMs))).toBe(true);
      // Cleared by hand: work at once, both slots.
      expect(onBad.filter((a) => a.startMs === clearMs).length).toBe(2);
      expect(sim.workerState(bad).breaker!.quarantined).toBe(false);
    });
  });

  const shedding = 'shedding: bounded queue refuses low priority first and loses nothing it accepted';
  it(shedding, () => {
    for (const seed of seedsFor([71, 72])) {
      replayable(shedding, seed, () => {
        const { sim, queuedMax, tenantQueuedMax, resubmitted } = sheddingTrace(seed, shedding);
        const slots = 30;
        let maxPending = 0;
        let maxTenant = 0;
        sim.observe((s) => {
          maxPending = Math.max(maxPending, s.state.pendingCount);
          for (const t of ['t1', 't2', 't3']) maxTenant = Math.max(maxTenant, s.state.tenantUsage(t).queued);
        });
        sim.run();
        const byPriority = new Map<number, { offered: number; refused: number }>();
        for (const s of sim.submissions) {
          if (s.jobId.startsWith('again-')) continue;
          const p = byPriority.get(s.priority) ?? { offered: 0, refused: 0 };
          p.offered += s.tasks;
          if (s.result === 'exhausted') p.refused += s.tasks;
          else expect(s.result).toBe('submitted');
          byPriority.set(s.priority, p);
        }
        const refused = (p: number) => byPriority.get(p)!.refused / byPriority.get(p)!.offered;
        report(shedding, {
          seed, refusedFraction: { '-1': refused(-1), 0: refused(0), 1: refused(1) }, maxPending, maxTenantQueued: maxTenant, resubmitted,
        });
        expect(refused(-1)).toBeGreaterThan(refused(0));
        expect(refused(0)).toBeGreaterThan(refused(1));
        expect(refused(-1)).toBeGreaterThan(0.5);
        // Only a retry (its attempt was running, so it was admitted before) may pass a bound.
        expect(maxPending).toBeLessThanOrEqual(queuedMax + slots);
        expect(maxTenant).toBeLessThanOrEqual(tenantQueuedMax + slots);
        // A client's resubmission of an accepted job is answered as such, full queue or not.
        expect(resubmitted.every((r) => r.result === 'submitted' && r.duplicate)).toBe(true);
        // Every acknowledged task ended, and nothing else is in the state.
        const accepted = sim.submissions.filter((s) => s.result === 'submitted' && !s.jobId.startsWith('again-'));
        expect(sim.state.tasks.size).toBe(accepted.reduce((n, s) => n + s.tasks, 0));
        expect(sim.unfinished()).toEqual([]);
        for (const s of accepted) expect(JobState[sim.state.jobs.get(s.jobId)!.job.state]).toBe('SUCCEEDED');
        for (const s of sim.submissions) if (s.result === 'exhausted') expect(sim.state.jobs.has(s.jobId)).toBe(false);
      });
    }
  });

  const resources = 'resources: no worker runs more than its CPU, memory and devices';
  it(resources, () => {
    for (const seed of seedsFor([81, 82])) {
      replayable(resources, seed, () => {
        const sim = resourcesTrace(seed, resources);
        // The simulator checks every instant that the running tasks' demands
        // fit the worker (an exhaustive check of device choices); here also
        // that the state's own accounting agrees, and that resources, not
        // slots, were what ran out.
        let boundByResources = 0;
        sim.observe((s) => {
          for (const w of s.state.workers.values()) {
            const cap = capacityOf(w);
            const free = s.state.freeOn(w);
            const running = s.state.runningOn(w.id);
            const held = running.map((t) => s.state.tasks.get(t.id)!.holding!);
            const heldCpu = held.reduce((n, h) => n + h.cpu, 0);
            const heldMemory = held.reduce((n, h) => n + h.memory, 0);
            if (cap.cpu - free.cpu !== heldCpu || cap.memory - free.memory !== heldMemory) {
              throw s.fail(`${w.id}: the state counts ${cap.cpu - free.cpu} cores and ${cap.memory - free.memory} bytes in use, its running attempts hold ${heldCpu} and ${heldMemory}`);
            }
            for (const t of running) {
              const d = demandOf(t.spec?.requirements);
              const h = s.state.tasks.get(t.id)!.holding!;
              if (h.cpu !== d.cpu || h.memory !== d.memory) throw s.fail(`${t.id} holds ${h.cpu} cores and ${h.memory} bytes, needs ${d.cpu} and ${d.memory}`);
            }
            for (const [k, n] of free.devices) if (n < 0) throw s.fail(`${w.id} has ${n} free devices of kind ${k}`);
            const full = free.cpu === 0 || [...cap.devices].some(([k, n]) => n > 0 && (free.devices.get(k) ?? 0) === 0);
            if (running.length < w.slots && full) boundByResources++;
          }
        });
        sim.run();
        expect(sim.unfinished()).toEqual([]);
        report(resources, { seed, attempts: sim.attempts.length, instants: sim.instants, workerInstantsBoundByResources: boundByResources });
        expect(boundByResources).toBeGreaterThan(0);
      });
    }
  });
});
