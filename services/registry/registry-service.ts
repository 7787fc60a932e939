import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import { WorkerSchema, WorkerState, type Worker } from '../../libs/gen/dtf/common/v1/common_pb';
import type { RegistryService } from '../../libs/gen/dtf/registry/v1/registry_service_pb';
import type { Coordinator } from '../coordinator/coordinator';

/** RegistryService: the fleet as the log records it, with the leader's soft state. */
export function registryService(c: Coordinator): ServiceImpl<typeof RegistryService> {
  return {
    async listWorkers(req) {
      const all = [...c.state.workers.values()].filter((w) => req.includeGone || w.state === WorkerState.ONLINE);
      return { workers: all.map((w) => workerView(c, w.id)) };
    },
    async getWorker(req) {
      return { worker: workerView(c, req.workerId) };
    },
    async cordonWorker(req) {
      workerView(c, req.workerId);
      await c.log.propose(c.hub.command({ case: 'setWorkerFlags', value: { $typeName: 'dtf.state.v1.SetWorkerFlags', workerId: req.workerId, cordoned: req.cordoned, clearQuarantine: false } }));
      c.dispatcher.kick();
      return { worker: workerView(c, req.workerId) };
    },
    async drainWorker(req) {
      workerView(c, req.workerId);
      await c.log.propose(c.hub.command({ case: 'setWorkerFlags', value: { $typeName: 'dtf.state.v1.SetWorkerFlags', workerId: req.workerId, draining: true, clearQuarantine: false } }));
      c.hub.sessions.get(req.workerId)?.send({ case: 'drain', value: { $typeName: 'dtf.worker.v1.Drain' } });
      return { worker: workerView(c, req.workerId) };
    },
    async clearQuarantine(req) {
      workerView(c, req.workerId);
      await c.log.propose(c.hub.command({ case: 'setWorkerFlags', value: { $typeName: 'dtf.state.v1.SetWorkerFlags', workerId: req.workerId, clearQuarantine: true } }));
      c.dispatcher.kick();
      return { worker: workerView(c, req.workerId) };
    },
    async registerWorker(req) {
      const id = req.workerId || `http-${Math.random().toString(36).slice(2, 10)}`;
      const slots = req.slots || 1;
      await c.hub.open({ workerId: id, name: req.name, hardware: req.hardware, labels: req.labels, slots, freeSlots: slots, running: [], httpOnly: true }, undefined);
      return { worker: workerView(c, id), heartbeatIntervalMs: c.hub.liveness.heartbeatIntervalMs };
    },
    async reportWorkerStatus(req) {
      const s = c.hub.sessions.get(req.workerId);
      if (!s || !s.httpOnly) {
        throw new ConnectError(`worker "${req.workerId}" is not registered as an HTTP worker; call RegisterWorker first`, Code.FailedPrecondition);
      }
      c.hub.heartbeat(s, req.load, req.running);
      if (req.results.length > 0) await c.hub.finish(s, req.results);
      s.credits = Math.min(s.slots, req.freeSlots);
      c.dispatcher.kick();
      // Give the dispatcher one turn so a status call can carry new work back.
      await new Promise((r) => setTimeout(r, 5));
      const o = s.collect();
      return { assignments: o.assignments, acked: o.acked, rejected: o.rejected, cancel: o.cancel, drain: o.drain };
    },
  };
}

/** The worker with live figures merged in, or NOT_FOUND naming the id. */
export function workerView(c: Coordinator, workerId: string): Worker {
  const w = c.state.workers.get(workerId);
  if (!w) throw new ConnectError(`worker "${workerId}" not found`, Code.NotFound);
  const s = c.hub.sessions.get(workerId);
  const running = c.state.runningOn(workerId).map((t) => ({ $typeName: 'dtf.common.v1.AttemptKey' as const, taskId: t.id, attempt: t.attempt }));
  return create(WorkerSchema, {
    ...w,
    running,
    freeSlots: s?.credits ?? 0,
    load: s?.load,
    lastSeenMs: BigInt(s?.lastSeenMs ?? Number(w.lastSeenMs)),
  });
}
