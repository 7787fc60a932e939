import { Code, ConnectError, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import { create } from '@bufbuild/protobuf';
import { ConnectResponseSchema, type ConnectRequest, type ConnectResponse, type WorkerService } from '../../libs/gen/dtf/worker/v1/worker_service_pb';
import { AsyncQueue } from '../../libs/rpc/async-queue';
import type { Coordinator } from './coordinator';
import type { WorkerSession } from './worker-session';

/**
 * WorkerService: one bidi stream per worker. The first message must be a
 * hello; after it every message is handled by the worker hub.
 */
export function workerService(c: Coordinator): ServiceImpl<typeof WorkerService> {
  return {
    connect(requests: AsyncIterable<ConnectRequest>, ctx: HandlerContext): AsyncIterable<ConnectResponse> {
      const out = new AsyncQueue<ConnectResponse>();
      void serve(c, requests, out, ctx);
      return out;
    },
  };
}

async function serve(c: Coordinator, requests: AsyncIterable<ConnectRequest>, out: AsyncQueue<ConnectResponse>, ctx: HandlerContext): Promise<void> {
  let session: WorkerSession | undefined;
  try {
    for await (const req of requests) {
      if (ctx.signal.aborted) break;
      if (!session) {
        if (req.msg.case !== 'hello') throw new ConnectError('the first message on the stream must be a hello', Code.InvalidArgument);
        if (!c.leading) {
          redirect(c, out);
          return;
        }
        session = await hello(c, req.msg.value, out);
        continue;
      }
      handle(c, session, req.msg);
    }
  } catch (e) {
    c.logger.warn({ err: (e as Error).message, worker: session?.workerId }, 'worker stream failed');
    out.fail(e);
  } finally {
    if (session) c.hub.closed(session);
    out.end();
  }
}

/** A member that does not lead points the worker at the leader; the worker reconnects there. */
function redirect(c: Coordinator, out: AsyncQueue<ConnectResponse>): void {
  const leader = c.cluster!.leader();
  if (!leader.address) throw new ConnectError(`member ${c.cluster!.id} is not the leader and knows of none yet; retry shortly`, Code.Unavailable);
  out.push(create(ConnectResponseSchema, { msg: { case: 'redirect', value: { $typeName: 'dtf.worker.v1.Redirect', address: leader.address } } }));
}

async function hello(c: Coordinator, h: Extract<ConnectRequest['msg'], { case: 'hello' }>['value'], out: AsyncQueue<ConnectResponse>): Promise<WorkerSession> {
  const s = await c.hub.open(
    {
      workerId: h.workerId, name: h.name, hardware: h.hardware, labels: h.labels, slots: h.slots,
      freeSlots: h.freeSlots, prefetch: h.prefetch, running: h.running, httpOnly: false,
    },
    out,
  );
  s.send({
    case: 'welcome',
    value: { $typeName: 'dtf.worker.v1.Welcome', workerId: s.workerId, sessionEpoch: s.epoch, heartbeatIntervalMs: c.hub.liveness.heartbeatIntervalMs },
  });
  c.logger.info({ worker: s.workerId, epoch: String(s.epoch), slots: s.slots }, 'worker connected');
  if (h.unackedResults.length > 0) await c.hub.finish(s, h.unackedResults);
  return s;
}

function handle(c: Coordinator, s: WorkerSession, msg: ConnectRequest['msg']): void {
  switch (msg.case) {
    case 'heartbeat':
      c.hub.heartbeat(s, msg.value.load, msg.value.running, msg.value.draining);
      break;
    case 'credit':
      c.hub.grant(s, msg.value.grant);
      break;
    case 'accepted':
      c.hub.touch(s);
      break;
    case 'progress':
      c.hub.acceptUpdate(s, msg.value.key);
      break;
    case 'log':
      if (c.hub.acceptUpdate(s, msg.value.key)) c.outputs.append(msg.value);
      break;
    case 'results':
      if (msg.value.grant > 0) c.hub.grant(s, msg.value.grant);
      c.hub.finish(s, msg.value.results).catch((e) => c.logger.error({ err: (e as Error).message }, 'recording results failed'));
      break;
    default:
      throw new ConnectError(`unexpected message "${msg.case ?? 'empty'}" after hello`, Code.InvalidArgument);
  }
}
