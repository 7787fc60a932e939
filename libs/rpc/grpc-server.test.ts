import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, type ServiceImpl } from '@connectrpc/connect';
import { ConnectRequestSchema, WorkerService, type ConnectRequest, type ConnectResponse } from '../gen/dtf/worker/v1/worker_service_pb';
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

describe('GrpcServer', () => {
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
