import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, type ServiceImpl } from '@connectrpc/connect';
import { ConnectRequestSchema, WorkerService, type ConnectRequest, type ConnectResponse } from '../gen/dtf/worker/v1/worker_service_pb';
import { RegistryService } from '../gen/dtf/registry/v1/registry_service_pb';
import { AsyncQueue } from './async-queue';
import { GrpcServer } from './grpc-server';
import { createGrpcTransport } from './grpc-transport';

/** A WorkerService whose stream fails on the first message, as a refused hello does. */
const failing: ServiceImpl<typeof WorkerService> = {
  connect(requests: AsyncIterable<ConnectRequest>): AsyncIterable<ConnectResponse> {
    const out = new AsyncQueue<ConnectResponse>();
    void (async () => {
      for await (const req of requests) {
        out.fail(new ConnectError(`refused ${req.msg.case}`, Code.FailedPrecondition));
        return;
      }
    })();
    return out;
  },
};

/** A WorkerService whose stream stays open until its context's signal aborts, then says why. */
function waiting(aborted: (reason: unknown) => void): ServiceImpl<typeof WorkerService> {
  return {
    connect(_requests: AsyncIterable<ConnectRequest>, ctx): AsyncIterable<ConnectResponse> {
      const out = new AsyncQueue<ConnectResponse>();
      ctx.signal.addEventListener('abort', () => {
        aborted(ctx.signal.reason);
        out.end();
      });
      return out;
    },
  };
}

describe('GrpcServer', () => {
  it('keeps nothing of a finished call, and aborts live calls when it stops', async () => {
    const reasons: unknown[] = [];
    const registry = Object.fromEntries(RegistryService.methods.map((m) => [m.localName, () => ({})])) as unknown as ServiceImpl<typeof RegistryService>;
    const server = new GrpcServer().add(WorkerService, waiting((r) => reasons.push(r))).add(RegistryService, registry);
    const port = await server.listen('127.0.0.1:0');
    const t = createGrpcTransport(`127.0.0.1:${port}`);
    try {
      // Unary calls come and go: none is left behind.
      const client = createClient(RegistryService, t);
      await Promise.all(Array.from({ length: 50 }, () => client.listWorkers({})));
      expect(server.callsInProgress).toBe(0);
      const out = new AsyncQueue<ConnectRequest>();
      const stream = (async () => {
        for await (const _ of createClient(WorkerService, t).connect(out)) void _;
      })().catch(() => {});
      while (server.callsInProgress < 1) await new Promise((r) => setTimeout(r, 5));
      await server.stop(500);
      await stream;
      expect(reasons).toHaveLength(1);
      expect(reasons[0]).toBeInstanceOf(ConnectError);
      expect((reasons[0] as ConnectError).code).toBe(Code.Unavailable);
      expect(server.callsInProgress).toBe(0);
    } finally {
      t.close();
      await server.stop();
    }
  });

  it('ends a stream whose handler throws before returning with that error', async () => {
    const throwing = { connect() { throw new ConnectError('not the leader', Code.Unavailable); } } as unknown as ServiceImpl<typeof WorkerService>;
    const server = new GrpcServer().add(WorkerService, throwing);
    const port = await server.listen('127.0.0.1:0');
    const t = createGrpcTransport(`127.0.0.1:${port}`);
    try {
      const out = new AsyncQueue<ConnectRequest>();
      const outcome = await (async () => {
        for await (const _ of createClient(WorkerService, t).connect(out, { timeoutMs: 5000 })) void _;
        return 'ended without an error';
      })().catch((e: ConnectError) => `${Code[e.code]}: ${e.rawMessage}`);
      expect(outcome).toBe('Unavailable: not the leader');
      expect(server.callsInProgress).toBe(0);
      out.end();
    } finally {
      t.close();
      await server.stop();
    }
  });

  it('ends a failing stream with its error status while the client is still sending', async () => {
    const server = new GrpcServer().add(WorkerService, failing);
    const port = await server.listen('127.0.0.1:0');
    const t = createGrpcTransport(`127.0.0.1:${port}`);
    try {
      const out = new AsyncQueue<ConnectRequest>();
      out.push(create(ConnectRequestSchema, { msg: { case: 'hello', value: { workerId: 'w', slots: 1 } } }));
      const outcome = await (async () => {
        for await (const _ of createClient(WorkerService, t).connect(out, { timeoutMs: 5000 })) void _;
        return 'ended without an error';
      })().catch((e: ConnectError) => `${Code[e.code]}: ${e.rawMessage}`);
      // Before the fix the server destroyed the stream without a status and the client waited forever.
      expect(outcome).toBe('FailedPrecondition: refused hello');
      out.end();
    } finally {
      t.close();
      await server.stop();
    }
  });
});
