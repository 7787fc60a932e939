import { create } from '@bufbuild/protobuf';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { ResultService, type TailEventsResponse } from '../../libs/gen/dtf/result/v1/result_service_pb';
import { SubmitJobRequestSchema } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { inProcessClient } from '../../libs/rpc/in-process-client';
import { Coordinator } from '../coordinator/coordinator';

describe('ResultService.tailEvents', () => {
  let dir: string;
  let c: Coordinator;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtf-result-service-'));
    c = await Coordinator.start({ dataDir: dir, listen: '127.0.0.1:0', logger: pino({ level: 'silent' }) });
  });

  afterAll(async () => {
    await c.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('marks a message idle when it holds the newest events and nothing is queued or running', async () => {
    const abort = new AbortController();
    const feed = inProcessClient(ResultService, c.impls.results).tailEvents({ afterIndex: c.state.events.last }, { signal: abort.signal })[Symbol.asyncIterator]();
    const next = async (): Promise<TailEventsResponse> => (await feed.next()).value as TailEventsResponse;

    // No worker: the task stays queued, so more events are still to come.
    const res = await c.impls.scheduler.submitJob(create(SubmitJobRequestSchema, { name: 'idle', tasks: [{ name: 'a', argv: ['true'] }] }), {} as never);
    const submitted = await next();
    expect(submitted.events.map((e) => e.kind.case)).toEqual(['jobSubmitted']);
    expect(submitted.idle).toBe(false);

    // Cancelled, it was the last work there was.
    await c.impls.scheduler.cancelJob({ $typeName: 'dtf.scheduler.v1.CancelJobRequest', jobId: String(res.job?.id) }, {} as never);
    const ended = await next();
    expect(ended.events.map((e) => e.kind.case)).toEqual(['taskFinished', 'jobFinished']);
    expect(ended.idle).toBe(true);
    abort.abort();
  });
});
