import { TaskState, WorkerState, type Task, type Worker } from '../gen/dtf/common/v1/common_pb';
import { Verdict, type WorkerVerdict } from '../gen/dtf/scheduler/v1/scheduler_service_pb';
import type { Refusal } from './plugin';
import { compareKeys, type OrderContext, type ReadyIndex } from './ready-index';
import { allocate, demandOf, type Resources } from './resources';

/** What the scheduler knows of a live worker's room right now. */
export interface WorkerRoomNow {
  /** Set while it is quarantined (and not yet due a probe). */
  quarantine?: string;
  /** Tasks it may be given now (0 when busy). */
  slots: number;
  free: Resources;
}

export interface ExplainInput {
  task: Task;
  index: ReadyIndex;
  order: OrderContext;
  /** Every known worker; only online ones are judged. */
  workers: Iterable<Worker>;
  refusal(task: Task, worker: Worker): Refusal | undefined;
  room(worker: Worker): WorkerRoomNow;
  /** Names of unfinished dependencies, by task id. */
  nameOf(taskId: string): string;
}

export interface Explanation {
  summary: string;
  queuePosition: number;
  queueLength: number;
  neverRunnable: boolean;
  workers: WorkerVerdict[];
}

/** Refusals that no change of load, time or operator flag can lift. */
const lasting = new Set([Verdict.MISSING_DEVICE, Verdict.INSUFFICIENT_MEMORY, Verdict.INSUFFICIENT_CPU, Verdict.LABEL_MISMATCH, Verdict.PLUGIN]);

/**
 * Why a task is not running: its place among the queued tasks that compete
 * for the same workers, and each live worker's verdict — unable (and why),
 * quarantined, busy, or able with room now.
 */
export function explainTask(x: ExplainInput): Explanation {
  const t = x.task;
  const verdicts: WorkerVerdict[] = [];
  for (const w of x.workers) {
    if (w.state !== WorkerState.ONLINE) continue;
    verdicts.push(judge(x, w));
  }
  verdicts.sort((a, b) => a.verdict - b.verdict || (a.workerName < b.workerName ? -1 : 1));
  // With no worker online nothing is known yet: a worker may join that can.
  const neverRunnable = verdicts.length > 0 && verdicts.every((v) => lasting.has(v.verdict));
  const { position, length } = queuePosition(x);
  const base = { queuePosition: position, queueLength: length, neverRunnable, workers: verdicts };
  if (t.state !== TaskState.PENDING) {
    return { ...base, summary: `not pending: the task is ${TaskState[t.state].toLowerCase()}${t.workerId ? ` on ${t.workerId}` : ''}` };
  }
  if (t.waitingOn.length > 0) {
    return { ...base, summary: `waiting for its dependencies to succeed: ${t.waitingOn.map((id) => x.nameOf(id)).join(', ')}` };
  }
  const entry = x.index.get(t.id);
  if (entry && entry.notBeforeMs > x.order.nowMs && position === 0) {
    return { ...base, summary: `waiting out its retry backoff: not before ${new Date(entry.notBeforeMs).toISOString()}` };
  }
  if (verdicts.length === 0) return { ...base, summary: 'no worker is online' };
  if (neverRunnable) {
    const shown = verdicts.slice(0, 8).map((v) => `${v.workerName}: ${v.reason}`).join('; ');
    const more = verdicts.length > 8 ? `; and ${verdicts.length - 8} more` : '';
    return { ...base, summary: `no live worker could ever run it: ${shown}${more}` };
  }
  const count = (v: Verdict) => verdicts.filter((w) => w.verdict === v).length;
  const where = position > 0 ? `position ${position} of ${length} in its queue; ` : '';
  const able = count(Verdict.ABLE);
  if (able > 0) return { ...base, summary: `${where}${able} able worker${able > 1 ? 's have' : ' has'} room now: it should start with the next scheduling round` };
  const parts: string[] = [];
  const busy = count(Verdict.BUSY);
  if (busy > 0) parts.push(`${busy} able worker${busy > 1 ? 's are' : ' is'} busy`);
  const q = count(Verdict.QUARANTINED);
  if (q > 0) parts.push(`${q} quarantined`);
  const c = count(Verdict.CORDONED) + count(Verdict.DRAINING);
  if (c > 0) parts.push(`${c} cordoned or draining`);
  return { ...base, summary: `${where}waiting: ${parts.join(', ')}` };
}

function judge(x: ExplainInput, w: Worker): WorkerVerdict {
  const name = w.name || w.id;
  const v = (verdict: Verdict, reason: string): WorkerVerdict => ({ $typeName: 'dtf.scheduler.v1.WorkerVerdict', workerId: w.id, workerName: name, verdict, reason });
  const refusal = x.refusal(x.task, w);
  if (refusal) return v(refusal.verdict === Verdict.UNSPECIFIED ? Verdict.PLUGIN : refusal.verdict, refusal.reason);
  const room = x.room(w);
  if (room.quarantine) return v(Verdict.QUARANTINED, room.quarantine);
  if (room.slots <= 0) return v(Verdict.BUSY, 'no free slot');
  const demand = demandOf(x.task.spec?.requirements);
  if (!allocate(demand, room.free)) {
    const lack: string[] = [];
    if (demand.cpu > room.free.cpu) lack.push(`${demand.cpu} CPU cores needed, ${room.free.cpu} free`);
    if (demand.memory > room.free.memory) lack.push('not enough free memory');
    if (lack.length === 0) lack.push('its devices are in use');
    return v(Verdict.BUSY, lack.join('; '));
  }
  return v(Verdict.ABLE, 'has room now');
}

/** 1-based place among ready tasks of the same class; 0 when not in the ready queue. */
function queuePosition(x: ExplainInput): { position: number; length: number } {
  const e = x.index.get(x.task.id);
  const cq = e && x.index.classes.get(e.cls);
  const mine = e && x.index.keyOf(e, x.order);
  if (!e || !cq || !mine) return { position: 0, length: cq?.size ?? 0 };
  let ahead = 0;
  for (const other of x.index.all()) {
    if (other === e || other.cls !== e.cls) continue;
    const k = x.index.keyOf(other, x.order);
    if (k && compareKeys(k, mine) < 0) ahead++;
  }
  return { position: ahead + 1, length: cq.size };
}
