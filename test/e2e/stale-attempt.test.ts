import { create } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AttemptOutcome, AttemptResultSchema, DeviceKind, type AttemptKey } from '../../libs/gen/dtf/common/v1/common_pb';
import { SchedulerService } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { ConnectRequestSchema, WorkerService, type ConnectRequest, type ConnectResponse, type Hello } from '../../libs/gen/dtf/worker/v1/worker_service_pb';
import { AsyncQueue } from '../../libs/rpc/async-queue';
import { createGrpcTransport, type GrpcTransport } from '../../libs/rpc/grpc-transport';
import { eventually, freePort, startDtf, type DtfProcess } from '../support/dtf-process';

jest.setTimeout(60_000);

/** A worker speaking the wire protocol by hand, so the test controls every message. */
class HandWorker {
  readonly up = new AsyncQueue<ConnectRequest>();
  readonly down: ConnectResponse[] = [];
  private readonly transport: GrpcTransport;

  constructor(address: string, hello: Partial<Hello> & { workerId: string }) {
    const transport = createGrpcTransport(address);
    this.transport = transport;
    this.send({ case: 'hello', value: { $typeName: 'dtf.worker.v1.Hello', name: hello.workerId, slots: 1, freeSlots: 1, prefetch: 0, labels: {}, running: [], unackedResults: [], token: '', version: 'test', hardware: { $typeName: 'dtf.common.v1.Hardware', hostname: 'h', os: 'linux', arch: 'x64', cpuModel: 'c', cpuCores: 2, memoryBytes: 1n << 30n, devices: [{ $typeName: 'dtf.common.v1.Device', kind: DeviceKind.CPU, model: 'c', memoryBytes: 0n, driver: '', index: 0 }] }, ...hello } });
    void (async () => {
      try {
        for await (const m of createClient(WorkerService, transport).connect(this.up)) this.down.push(m);
      } catch {
        // The coordinator closed the stream (superseded or lost).
      }
    })();
  }

  send(msg: ConnectRequest['msg']): void {
    this.up.push(create(ConnectRequestSchema, { msg }));
  }

  received<C extends ConnectResponse['msg']['case']>(c: C): Extract<ConnectResponse['msg'], { case: C }>['value'][] {
    return this.down.filter((m) => m.msg.case === c).map((m) => m.msg.value) as never;
  }

  close(): void {
    this.up.end();
    this.transport.close();
  }
}

const result = (key: AttemptKey, workerId: string) => create(AttemptResultSchema, { key, outcome: AttemptOutcome.SUCCEEDED, workerId, startedAtMs: 1n, finishedAtMs: 2n });

describe('a late result from a superseded attempt', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtf-stale-'));
  let coordinator: DtfProcess;
  let address = '';

  beforeAll(async () => {
    address = `127.0.0.1:${await freePort()}`;
    coordinator = startDtf('coordinator', ['coordinator', '--listen', address, '--data-dir', dir, '--heartbeat-ms', '100', '--lease-ms', '800']);
    await coordinator.waitFor(/coordinator listening/);
  });

  afterAll(async () => {
    await coordinator.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is rejected, counted, and leaves the current attempt\'s result in place', async () => {
    const transport = createGrpcTransport(address);
    const scheduler = createClient(SchedulerService, transport);
    const a = new HandWorker(address, { workerId: 'worker-a' });
    await eventually('a welcomed', async () => a.received('welcome').length === 1);
    const job = await scheduler.submitJob({ name: 'stale', tasks: [{ shell: 'true' }] });
    const first = await eventually('assignment to a', async () => a.received('assign')[0]?.assignments[0]);
    expect(first.key!.attempt).toBe(1);

    // worker-a goes silent past its lease; worker-b keeps beating and gets attempt 2.
    const b = new HandWorker(address, { workerId: 'worker-b' });
    const beat = setInterval(() => b.send({ case: 'heartbeat', value: { $typeName: 'dtf.worker.v1.Heartbeat', running: [], draining: false } }), 100);
    const second = await eventually('assignment to b', async () => b.received('assign')[0]?.assignments[0], 10_000);
    expect(second.key).toMatchObject({ taskId: first.key!.taskId, attempt: 2 });
    b.send({ case: 'results', value: { $typeName: 'dtf.worker.v1.Results', results: [result(second.key!, 'worker-b')], grant: 1 } });
    await eventually('b acked', async () => b.received('ack').length === 1);

    // worker-a comes back with its result for attempt 1.
    a.close();
    const a2 = new HandWorker(address, { workerId: 'worker-a', unackedResults: [result(first.key!, 'worker-a')] });
    const reject = await eventually('a rejected', async () => a2.received('reject')[0]);
    expect(reject.keys).toEqual([expect.objectContaining({ taskId: first.key!.taskId, attempt: 1 })]);
    expect(a2.received('ack')).toEqual([]);

    // Output for the superseded attempt is dropped and counted too.
    a2.send({ case: 'log', value: { $typeName: 'dtf.worker.v1.LogChunk', key: first.key, stream: 1, data: Buffer.from('late'), offset: 0n } });
    await eventually('stale update counted', async () => (await scheduler.getStatus({})).staleUpdatesRejected === 1n);

    const { task } = await scheduler.getTask({ taskId: first.key!.taskId });
    expect(task!.attempt).toBe(2);
    expect(task!.result!.workerId).toBe('worker-b');
    expect((await scheduler.getStatus({})).staleResultsRejected).toBe(1n);
    expect((await scheduler.getJob({ jobId: job.job!.id })).job!.counts!.succeeded).toBe(1);
    clearInterval(beat);
    a2.close();
    b.close();
    transport.close();
  });
});
