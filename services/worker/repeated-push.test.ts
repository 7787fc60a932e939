import { create } from '@bufbuild/protobuf';
import { TaskState } from '../../libs/gen/dtf/common/v1/common_pb';
import { SubmitJobRequestSchema } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import type { Coordinator } from '../coordinator/coordinator';
import { startTestAgent, type TestAgent } from './test-agent';

/*
 * The coordinator pushes an assignment while its log entry commits; when the
 * log refuses the placement and the task is placed again, the same attempt
 * key can reach a worker that still runs the first push. The worker keeps
 * that run, and hands back the credit spent on the second push at once.
 * Real coordinator, real gRPC stream, real processes.
 */
describe('an assignment pushed again while it runs', () => {
  let t: TestAgent;
  let c: Coordinator;

  beforeAll(async () => {
    t = await startTestAgent({ slots: 1, prefetch: 1 });
    c = t.coordinator;
  });

  afterAll(() => t.stop());

  it('keeps the run under way and returns the credit of the second push', async () => {
    const res = await c.impls.scheduler.submitJob(create(SubmitJobRequestSchema, { name: 'again', tasks: [{ name: 'slow', shell: 'sleep 1' }] }), {} as never);
    const taskId = String(res.taskIds?.[0]);
    const deadline = Date.now() + 10_000;
    while (c.state.tasks.get(taskId)!.task.state !== TaskState.RUNNING && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const task = c.state.tasks.get(taskId)!.task;
    const session = c.hub.sessions.get(task.workerId)!;
    // Two credits (one slot, one ahead), one spent on the running task.
    while (session.credits !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(session.credits).toBe(1);

    // The same key again, with a credit spent on it, as a second round would.
    session.credits--;
    session.send({
      case: 'assign',
      value: { $typeName: 'dtf.worker.v1.Assign', assignments: [{ $typeName: 'dtf.worker.v1.Assignment', key: { $typeName: 'dtf.common.v1.AttemptKey', taskId, attempt: task.attempt }, jobId: task.jobId, spec: task.spec }] },
    });
    while (session.credits !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(session.credits).toBe(1);

    while (c.state.tasks.get(taskId)!.task.state === TaskState.RUNNING && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(c.state.tasks.get(taskId)!.task.state).toBe(TaskState.SUCCEEDED);
    expect(c.state.tasks.get(taskId)!.attempts).toHaveLength(1);
    expect(c.state.staleRejected).toBe(0);
  });
});
