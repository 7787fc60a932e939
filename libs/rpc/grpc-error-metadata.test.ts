import { createClient, Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import { SchedulerService } from '../gen/dtf/scheduler/v1/scheduler_service_pb';
import { GrpcServer } from './grpc-server';
import { createGrpcTransport } from './grpc-transport';

describe('an error over gRPC', () => {
  it('keeps its code, message and metadata, so a proxy can pass a retry-after on', async () => {
    const impl = {
      getStatus: () => {
        throw new ConnectError('queue full; retry after 7 s', Code.ResourceExhausted, { 'retry-after': '7', 'x-extra': 'kept' });
      },
    };
    // Only getStatus is called; the server requires every method to exist.
    const full = Object.fromEntries(SchedulerService.methods.map((m) => [m.localName, (impl as Record<string, unknown>)[m.localName] ?? (() => ({}))]));
    const server = new GrpcServer().add(SchedulerService, full as unknown as ServiceImpl<typeof SchedulerService>);
    const port = await server.listen('127.0.0.1:0');
    const transport = createGrpcTransport(`127.0.0.1:${port}`);
    try {
      const err = await createClient(SchedulerService, transport).getStatus({}).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
      const ce = err as ConnectError;
      expect(ce.code).toBe(Code.ResourceExhausted);
      expect(ce.rawMessage).toBe('queue full; retry after 7 s');
      expect(ce.metadata.get('retry-after')).toBe('7');
      expect(ce.metadata.get('x-extra')).toBe('kept');
      // Only what the service set: no transport headers to leak into a proxy's own reply.
      expect([...ce.metadata.keys()].sort()).toEqual(['retry-after', 'x-extra']);
    } finally {
      transport.close();
      await server.stop();
    }
  });
});
