import { Code, createClient } from '@connectrpc/connect';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { SchedulerService, type SubmitJobsRequest, type SubmitJobsResponse } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { AsyncQueue } from '../../libs/rpc/async-queue';
import { createGrpcTransport, type GrpcTransport } from '../../libs/rpc/grpc-transport';
import { Coordinator } from '../coordinator/coordinator';

type Init = Omit<SubmitJobsRequest, '$typeName' | 'job'> & { job: { name: string; tasks: { argv: string[] }[] } };

/*
 * SubmitJobs: many jobs over one stream of a real coordinator, over real
 * gRPC. Each request gets one answer with its ref; a refused job is answered
 * with its error and the jobs after it still go in.
 */
describe('SchedulerService.SubmitJobs', () => {
  let dir: string;
  let c: Coordinator;
  let t: GrpcTransport;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtf-submit-jobs-'));
    // Room for 5 queued tasks: the sixth is shed (priority 0 may fill 90%, so 4).
    c = await Coordinator.start({ dataDir: path.join(dir, 'coord'), listen: '127.0.0.1:0', logger: pino({ level: 'silent' }), policy: { bounds: { queuedMax: 5, tenantQueuedMax: 5 } } });
    t = createGrpcTransport(`127.0.0.1:${c.port}`);
  });

  afterAll(async () => {
    t.close();
    await c.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function exchange(requests: Init[]): Promise<Map<bigint, SubmitJobsResponse>> {
    const out = new AsyncQueue<Init>();
    for (const r of requests) out.push(r);
    out.end();
    const answers = new Map<bigint, SubmitJobsResponse>();
    for await (const a of createClient(SchedulerService, t).submitJobs(out, { timeoutMs: 10_000 })) {
      expect(answers.has(a.ref)).toBe(false);
      answers.set(a.ref, a);
    }
    return answers;
  }

  it('answers every job by its ref, refusing an invalid one and a shed one without ending the stream', async () => {
    const job = (name: string, tasks = 1) => ({ name, tasks: Array.from({ length: tasks }, () => ({ argv: ['true'] })) });
    const answers = await exchange([
      { ref: 1n, job: job('a', 2) },
      { ref: 2n, job: { name: 'empty', tasks: [] } },
      { ref: 3n, job: job('b', 2) },
      { ref: 4n, job: job('too-many', 3) },
      { ref: 5n, job: job('c', 2) },
    ]);
    expect([...answers.keys()].sort()).toEqual([1n, 2n, 3n, 4n, 5n]);
    const ok = (ref: bigint) => {
      const o = answers.get(ref)!.outcome;
      if (o.case !== 'submitted') throw new Error(`ref ${ref}: ${o.case === 'error' ? o.value.message : 'no outcome'}`);
      return o.value;
    };
    const err = (ref: bigint) => {
      const o = answers.get(ref)!.outcome;
      if (o.case !== 'error') throw new Error(`ref ${ref} was not refused`);
      return o.value;
    };
    expect(ok(1n).taskIds).toHaveLength(2);
    expect(ok(3n).taskIds).toHaveLength(2);
    expect(err(2n)).toMatchObject({ code: Code.InvalidArgument, message: expect.stringContaining('a job needs at least one task') });
    // 4 queued already; 3 more would pass the bound.
    expect(err(4n).code).toBe(Code.ResourceExhausted);
    expect(err(4n).retryAfterSeconds).toBeGreaterThan(0);
    expect(err(5n).code).toBe(Code.ResourceExhausted);
    // What was refused changed nothing.
    expect([...c.state.jobs.values()].map((j) => j.job.name).sort()).toEqual(['a', 'b']);
  });

  it('ends cleanly on an empty stream', async () => {
    expect((await exchange([])).size).toBe(0);
  });
});
