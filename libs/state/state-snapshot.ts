/**
 * The state machine's image as protobuf: what a Raft snapshot carries so the
 * log before it can be dropped, and what a member that fell behind installs.
 * Only durable fields are written; derived indexes are rebuilt on restore.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { createHash } from 'node:crypto';
import { TaskState, type AttemptResult, type Task, type Worker } from '../gen/dtf/common/v1/common_pb';
import {
  DeviceCountSchema, DurationEstimateSchema, HoldingSchema, JobImageSchema, StateSnapshotSchema, TaskImageSchema, WorkerAttemptsSchema,
  type Holding, type StateSnapshot,
} from '../gen/dtf/state/v1/snapshot_pb';
import type { Resources } from '../scheduling/resources';
import type { CoordinatorState } from './coordinator-state';
import type { EventLog } from './event-log';

/** What an image is made of: the state's durable fields, read through one door. */
export interface StateImageSource {
  appliedIndex: bigint;
  staleRejected: number;
  nextSeq: number;
  jobs: Iterable<{ job: StateSnapshot['jobs'][number]['job']; taskIds: string[] }>;
  tasks: Iterable<{ task: Task; attempts: AttemptResult[]; lost: number; budgeted: number; seq: number; enqueuedMs: number; holding: Resources | undefined; queued: boolean }>;
  workers: Iterable<Worker>;
  running: ReadonlyMap<string, ReadonlySet<string>>;
  durations: Iterable<[string, number]>;
  events: EventLog;
}

/** Builds the image of a state. Results the collector released are not in it. */
export function snapshotOf(s: StateImageSource): StateSnapshot {
  const img = s.events.image();
  const tasks = [...s.tasks];
  return create(StateSnapshotSchema, {
    appliedIndex: s.appliedIndex,
    jobs: [...s.jobs].map((r) => create(JobImageSchema, { job: r.job, taskIds: r.taskIds })),
    tasks: tasks.map((r) => create(TaskImageSchema, {
      task: r.task, attempts: r.attempts, lost: r.lost, budgeted: r.budgeted, seq: BigInt(r.seq), enqueuedMs: BigInt(r.enqueuedMs),
      holding: r.holding && holdingImage(r.holding),
    })),
    workers: [...s.workers],
    pendingTaskIds: tasks.filter((r) => r.queued).sort((a, b) => a.seq - b.seq).map((r) => r.task.id),
    events: img.events,
    eventsFirst: img.first,
    eventsLast: img.last,
    eventsDropped: BigInt(img.dropped),
    staleRejected: BigInt(s.staleRejected),
    running: [...s.running].filter(([, ids]) => ids.size > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([workerId, ids]) => create(WorkerAttemptsSchema, { workerId, taskIds: [...ids] })),
    nextSeq: BigInt(s.nextSeq),
    durations: [...s.durations].map(([key, ms]) => create(DurationEstimateSchema, { key, ms })),
  });
}

function holdingImage(h: Resources): Holding {
  const devices = [...h.devices].filter(([, n]) => n > 0).sort(([a], [b]) => a - b).map(([kind, count]) => create(DeviceCountSchema, { kind, count }));
  return create(HoldingSchema, { cpu: h.cpu, memoryBytes: BigInt(h.memory), devices });
}

/** The resources a holding image stands for. */
export function holdingOf(h: Holding): Resources {
  return { cpu: h.cpu, memory: Number(h.memoryBytes), devices: new Map(h.devices.map((d) => [d.kind, d.count])) };
}

/** Serialises `s`; the bytes are the same on every replica with the same state. */
export function encodeStateSnapshot(s: CoordinatorState): Uint8Array {
  return toBinary(StateSnapshotSchema, s.toSnapshot());
}

/** Decodes an image, naming what is wrong when it does not hold together. */
export function decodeStateSnapshot(bytes: Uint8Array): StateSnapshot {
  let snap: StateSnapshot;
  try {
    snap = fromBinary(StateSnapshotSchema, bytes);
  } catch (e) {
    throw new Error(`state snapshot of ${bytes.length} bytes is not a dtf.state.v1.StateSnapshot: ${(e as Error).message}`);
  }
  const ids = new Set(snap.tasks.map((t) => t.task?.id));
  if (snap.tasks.some((t) => !t.task)) throw new Error('state snapshot: a task image without a task');
  for (const j of snap.jobs) {
    if (!j.job) throw new Error('state snapshot: a job image without a job');
    for (const id of j.taskIds) if (!ids.has(id)) throw new Error(`state snapshot: job ${j.job.id} names task ${id}, which is not in the image`);
  }
  const byId = new Map(snap.tasks.map((t) => [t.task?.id, t.task]));
  for (const id of snap.pendingTaskIds) {
    if (byId.get(id)?.state !== TaskState.PENDING) throw new Error(`state snapshot: task ${id} is queued as pending but is not a pending task of the image`);
  }
  for (const r of snap.running) {
    for (const id of r.taskIds) {
      if (byId.get(id)?.workerId !== r.workerId) throw new Error(`state snapshot: task ${id} is listed as running on ${r.workerId}, but the task says otherwise`);
    }
  }
  return snap;
}

/**
 * A digest of the durable state, for checking that replicas agree. Equal
 * states give equal digests because the image is written in a fixed order.
 */
export function stateHash(s: CoordinatorState): string {
  return createHash('sha256').update(encodeStateSnapshot(s)).digest('hex').slice(0, 16);
}

