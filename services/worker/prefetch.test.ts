import { create } from '@bufbuild/protobuf';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TaskState } from '../../libs/gen/dtf/common/v1/common_pb';
import { SubmitJobRequestSchema } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import type { Coordinator } from '../coordinator/coordinator';
import { startTestAgent, type TestAgent } from './test-agent';

/*
 * Prefetch: a worker with one slot and --prefetch 1 holds a second task
 * while it runs the first, starts it the moment the first ends, and never
 * runs the two at once. Real coordinator, real gRPC stream, real processes.
 */
describe('worker prefetch', () => {
  let t: TestAgent;
  let dir: string;
  let c: Coordinator;

  beforeAll(async () => {
    t = await startTestAgent({ slots: 1, prefetch: 1 });
    ({ dir, coordinator: c } = t);
  });

  afterAll(() => t.stop());

  it('tells the coordinator which of its credits are the prefetch queue', () => {
    const session = c.hub.sessions.get(t.agent.workerId)!;
    expect([session.slots, session.prefetch, session.refillCredits]).toEqual([2, 1, 1]);
  });

  it('takes a second task while running the first, and runs them one after the other', async () => {
    const log = path.join(dir, 'runs.log');
    const step = (name: string) => ({ name, shell: `echo start ${name} >> ${log}; sleep 0.5; echo end ${name} >> ${log}` });
    const res = await c.impls.scheduler.submitJob(create(SubmitJobRequestSchema, { name: 'pf', tasks: [step('a'), step('b')] }), {} as never);
    const jobId = String(res.job?.id);
    // Both are assigned while the first still runs.
    const deadline = Date.now() + 10_000;
    while (c.state.jobs.get(jobId)!.job.counts!.running < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(c.state.jobs.get(jobId)!.job.counts!.running).toBe(2);
    while (c.state.jobs.get(jobId)!.job.state !== 3 /* SUCCEEDED */ && Date.now() < deadline + 10_000) await new Promise((r) => setTimeout(r, 50));
    expect(c.state.taskIdsOf(jobId).map((id) => c.state.tasks.get(id)!.task.state)).toEqual([TaskState.SUCCEEDED, TaskState.SUCCEEDED]);
    const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
    // Never both at once: each start follows the previous end.
    expect(lines.map((l) => l.split(' ')[0])).toEqual(['start', 'end', 'start', 'end']);
  });
});
