import { create } from '@bufbuild/protobuf';
import {
  AttemptKeySchema,
  AttemptOutcome,
  AttemptResultSchema,
  JobSchema,
  TaskSchema,
  TaskState,
  WorkerSchema,
  type AttemptKey,
  type Task,
  type TaskSpec,
} from '../gen/dtf/common/v1/common_pb';
import { CommandSchema, type Command } from '../gen/dtf/state/v1/command_pb';
import { CoordinatorState, type ApplyResult } from './coordinator-state';

/*
 * Command builders for the coordinator state's tests: one line per log entry,
 * so a test reads as the sequence of entries it applies.
 */

export type CommandKind = Command['kind'];

/**
 * Time between the harness's entries: past the longest default retry
 * backoff, so a retried task may be assigned in the next entry.
 */
export const stepMs = 60_000n;

/** A command with the given proposer time and kind. */
export function command(timeMs: bigint, kind: CommandKind): Command {
  return create(CommandSchema, { timeMs, kind });
}

export function key(taskId: string, attempt: number): AttemptKey {
  return create(AttemptKeySchema, { taskId, attempt });
}

export interface TaskInit {
  id: string;
  retries?: number;
  priority?: number;
  /** Any other spec fields (dependencies, deadline, retry policy, requirements…). */
  spec?: Partial<Omit<TaskSpec, '$typeName'>>;
}

export function submitJob(jobId: string, tasks: TaskInit[], idempotencyKey = '', tenant = ''): CommandKind {
  return {
    case: 'submitJob',
    value: {
      $typeName: 'dtf.state.v1.SubmitJob',
      job: create(JobSchema, { id: jobId, name: `job ${jobId}`, idempotencyKey, tenant }),
      tasks: tasks.map((t) =>
        create(TaskSchema, { id: t.id, spec: { name: t.id, argv: ['true'], retries: t.retries ?? 0, priority: t.priority ?? 0, ...t.spec } }),
      ),
      placements: [],
    },
  };
}

export function assign(...placements: [taskId: string, attempt: number, workerId: string][]): CommandKind {
  return {
    case: 'assignAttempts',
    value: {
      $typeName: 'dtf.state.v1.AssignAttempts',
      placements: placements.map(([taskId, attempt, workerId]) => ({
        $typeName: 'dtf.state.v1.Placement' as const,
        key: key(taskId, attempt),
        workerId,
      })),
    },
  };
}

export function finish(...results: [taskId: string, attempt: number, outcome: AttemptOutcome, workerId?: string][]): CommandKind {
  return {
    case: 'finishAttempts',
    value: {
      $typeName: 'dtf.state.v1.FinishAttempts',
      results: results.map(([taskId, attempt, outcome, workerId]) =>
        create(AttemptResultSchema, { key: key(taskId, attempt), outcome, workerId: workerId ?? '', exitCode: outcome === AttemptOutcome.SUCCEEDED ? 0 : 1 }),
      ),
    },
  };
}

export function workerJoined(workerId: string, running: AttemptKey[] = []): CommandKind {
  return {
    case: 'workerJoined',
    value: {
      $typeName: 'dtf.state.v1.WorkerJoined',
      worker: create(WorkerSchema, { id: workerId, name: workerId, slots: 4, running }),
    },
  };
}

export function workerLost(workerId: string, reason = 'lease expired'): CommandKind {
  return { case: 'workerLost', value: { $typeName: 'dtf.state.v1.WorkerLost', workerId, reason } };
}

export function setWorkerFlags(workerId: string, flags: { cordoned?: boolean; draining?: boolean; clearQuarantine?: boolean }): CommandKind {
  return { case: 'setWorkerFlags', value: { $typeName: 'dtf.state.v1.SetWorkerFlags', workerId, clearQuarantine: false, ...flags } };
}

export function cancelTasks(taskIds: string[], reason = 'cancelled by test'): CommandKind {
  return { case: 'cancelTasks', value: { $typeName: 'dtf.state.v1.CancelTasks', taskIds, reason } };
}

export function checkpoint(index: bigint): CommandKind {
  return { case: 'collectorCheckpoint', value: { $typeName: 'dtf.state.v1.CollectorCheckpoint', index } };
}

/** A state with its own log index and clock ({@link stepMs} per entry), for tests. */
export class StateHarness {
  readonly state = new CoordinatorState();
  index = 0n;
  timeMs = 1_000n;

  apply(kind: CommandKind): ApplyResult {
    this.index++;
    this.timeMs += stepMs;
    return this.state.apply(this.index, command(this.timeMs, kind));
  }

  task(id: string): Task {
    const rec = this.state.tasks.get(id);
    if (!rec) throw new Error(`no task ${id}`);
    return rec.task;
  }

  stateOf(id: string): TaskState {
    return this.task(id).state;
  }

  pendingIds(): string[] {
    return this.state.queue.inOrder({ nowMs: Number(this.timeMs), agingMs: 0, tenantShare: () => 0 }).map((e) => e.task.id);
  }
}

/**
 * Everything observable about a state, as one JSON string with sorted keys,
 * so two states built differently (fresh objects or decoded ones) compare equal
 * exactly when they hold the same data.
 */
export function canonicalState(s: CoordinatorState): string {
  const snapshot = {
    appliedIndex: s.appliedIndex,
    staleRejected: s.staleRejected,
    jobs: [...s.jobs].map(([id, r]) => ({ id, job: r.job, taskIds: r.taskIds })),
    tasks: [...s.tasks].map(([id, r]) => ({ id, task: r.task, attempts: r.attempts, lost: r.lost, budgeted: r.budgeted, seq: r.seq, tenant: r.tenant })),
    workers: [...s.workers].map(([id, w]) => ({ id, w, runningOn: s.runningOn(id).map((t) => t.id) })),
    queued: [...s.queue.all()].map((e) => [e.task.id, e.seq, e.enqueuedMs, e.notBeforeMs]).sort((a, b) => (a[0] < b[0] ? -1 : 1)),
    pendingCount: s.pendingCount,
    // Derived indexes, so a rebuilt state is compared on them too.
    tenants: [...new Set([...s.jobs.values()].map((r) => r.job.tenant))].sort().map((t) => [t, s.tenantUsage(t)]),
    free: [...s.workers.values()].map((w) => [w.id, s.freeOn(w).cpu, s.freeOn(w).memory, [...s.freeOn(w).devices]]),
    deadlinesDue: [0, 1e12, 2e12].map((t) => s.deadlinesDue(t)),
    durations: [...s.durations.entries()],
    events: { first: s.events.first, last: s.events.last, dropped: s.events.dropped, held: s.events.after(0n, Number.MAX_SAFE_INTEGER) },
  };
  return canonicalJson(snapshot);
}

/** JSON with object keys sorted, bigints as "123n", and undefined fields left out. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}
