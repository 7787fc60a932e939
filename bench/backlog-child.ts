/**
 * Child process: the coordinator's state with a backlog of queued tasks.
 * It builds the backlog through the state machine's own `apply` (what a
 * replay of the log does), reports the process RSS after a full GC, and
 * times scheduling decisions (placement plus the AssignAttempts apply) with
 * that backlog queued.
 *
 * Usage (from the bench): backlog-child.ts <queued tasks> <decisions> <warm-up rounds>
 */
import { create } from '@bufbuild/protobuf';
import { performance } from 'node:perf_hooks';
import { AttemptOutcome, AttemptResultSchema, DeviceKind, JobSchema, TaskSchema, WorkerSchema, type Worker } from '../libs/gen/dtf/common/v1/common_pb';
import { CommandSchema, type Command } from '../libs/gen/dtf/state/v1/command_pb';
import { firstRefusal } from '../libs/scheduling/feasibility';
import { capacityOf } from '../libs/scheduling/resources';
import { defaultRanking, scheduleRound, type FreeWorker, type RoundContext } from '../libs/scheduling/schedule-round';
import { CoordinatorState } from '../libs/state/coordinator-state';
import { tellParent } from './child';

const jobTasks = 10_000;
const workers = 100;

const cmd = (kind: Command['kind']) => create(CommandSchema, { timeMs: 1n, kind });

function build(queued: number): CoordinatorState {
  const s = new CoordinatorState();
  let index = 0n;
  for (let w = 0; w < workers; w++) {
    const worker = create(WorkerSchema, { id: `w${w}`, slots: 1, hardware: { cpuCores: 2, memoryBytes: 1n << 33n, devices: [{ kind: DeviceKind.CPU }] } });
    s.apply(++index, cmd({ case: 'workerJoined', value: { $typeName: 'dtf.state.v1.WorkerJoined', worker } }));
  }
  for (let j = 0; j * jobTasks < queued; j++) {
    const n = Math.min(jobTasks, queued - j * jobTasks);
    const id = `job-${j}`;
    // Realistic specs: a command line, a timeout, a few tags.
    const tasks = Array.from({ length: n }, (_, i) => create(TaskSchema, {
      id: `${id}.${i + 1}`,
      spec: { name: `test-${j}-${i}`, shell: `npm test -- --shard=${i}/${n}`, timeoutMs: 600_000, tags: { shard: String(i) } },
    }));
    s.apply(++index, cmd({ case: 'submitJob', value: { $typeName: 'dtf.state.v1.SubmitJob', job: create(JobSchema, { id, name: id }), tasks, placements: [] } }));
    // Keep only what a running coordinator keeps: the collector would have taken the events.
    s.apply(++index, cmd({ case: 'collectorCheckpoint', value: { $typeName: 'dtf.state.v1.CollectorCheckpoint', index: s.events.last } }));
  }
  return s;
}

/**
 * Microseconds per scheduling decision, in a steady state: a round places
 * one task on each free worker (the scheduler's own scheduleRound over the
 * indexed queue) and its AssignAttempts entry is applied — that is timed.
 * Then, untimed, the placed tasks finish and as many new ones are submitted,
 * so the queue keeps its length and every worker is free again.
 */
function decisionCostUs(s: CoordinatorState, decisions: number, warmupRounds: number): number {
  const ctx: RoundContext = {
    nowMs: 1, agingMs: 60_000, refusal: (req, w) => firstRefusal(req, w, []), preference: () => 0, rankers: [], ranking: defaultRanking,
    tenantRunning: (t) => s.tenantUsage(t).running, tenantWeight: () => 1, maxPlacements: 4096,
  };
  let index = s.appliedIndex;
  let made = 0;
  let timedMs = 0;
  for (let round = 0; made < decisions; round++) {
    const free: FreeWorker[] = [...s.workers.values()].map((worker: Worker) => ({ worker, slots: 1, free: capacityOf(worker), capacity: capacityOf(worker) }));
    const t0 = performance.now();
    const placements = scheduleRound(s.queue, free, ctx);
    const res = s.apply(++index, cmd({
      case: 'assignAttempts',
      value: { $typeName: 'dtf.state.v1.AssignAttempts', placements: placements.map((p) => ({ $typeName: 'dtf.state.v1.Placement', key: { $typeName: 'dtf.common.v1.AttemptKey', taskId: p.entry.task.id, attempt: p.entry.task.attempt + 1 }, workerId: p.workerId })) },
    }));
    const t1 = performance.now();
    if (res.kind !== 'assigned' || res.accepted.length === 0) throw new Error('backlog bench: nothing was placed');
    if (round >= warmupRounds) {
      timedMs += t1 - t0;
      made += res.accepted.length;
    }
    s.apply(++index, cmd({
      case: 'finishAttempts',
      value: { $typeName: 'dtf.state.v1.FinishAttempts', results: res.accepted.map((a) => create(AttemptResultSchema, { key: a.key, outcome: AttemptOutcome.SUCCEEDED, workerId: a.workerId })) },
    }));
    const id = `refill-${round}`;
    const tasks = res.accepted.map((_, i) => create(TaskSchema, { id: `${id}.${i + 1}`, spec: { name: `test-${id}-${i}`, shell: `npm test -- --shard=${i}`, timeoutMs: 600_000 } }));
    s.apply(++index, cmd({ case: 'submitJob', value: { $typeName: 'dtf.state.v1.SubmitJob', job: create(JobSchema, { id, name: id }), tasks, placements: [] } }));
    s.apply(++index, cmd({ case: 'collectorCheckpoint', value: { $typeName: 'dtf.state.v1.CollectorCheckpoint', index: s.events.last } }));
  }
  return (timedMs * 1000) / made;
}

async function main(): Promise<void> {
  const [queuedArg, decisionsArg, warmupArg] = process.argv.slice(2);
  const queued = Number(queuedArg);
  const decisions = Number(decisionsArg);
  const warmupRounds = Number(warmupArg);
  if (!(queued > 0) || !(decisions > 0) || !(warmupRounds >= 0)) throw new Error('usage: backlog-child.ts <queued> <decisions> <warm-up rounds>');
  const t0 = performance.now();
  const s = build(queued);
  const buildMs = performance.now() - t0;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  // Give V8 a moment to hand back the pages the build churned through, as a
  // coordinator does once submissions stop, then measure what stays.
  await new Promise((r) => setTimeout(r, 2000));
  gc?.();
  const mem = process.memoryUsage();
  const rssBytes = mem.rss;
  if (!process.send) console.log(JSON.stringify(mem));
  const costUs = decisionCostUs(s, decisions, warmupRounds);
  tellParent({ type: 'ready', queued, rssBytes, costUs, buildMs, pending: s.pendingCount });
  setTimeout(() => process.exit(0), 10);
}

main().catch((e: unknown) => {
  tellParent({ type: 'error', message: (e as Error).message });
  process.exit(1);
});
