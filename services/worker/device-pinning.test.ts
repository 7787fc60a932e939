import { create } from '@bufbuild/protobuf';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DeviceKind, DeviceSchema, JobState, RequirementsSchema, TaskSpecSchema } from '../../libs/gen/dtf/common/v1/common_pb';
import { SubmitJobRequestSchema } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import type { Coordinator } from '../coordinator/coordinator';
import { startTestAgent, type TestAgent } from './test-agent';

/*
 * Device pinning end to end: a worker with two CUDA cards runs two
 * one-card tasks at once; each sees only its own card in
 * CUDA_VISIBLE_DEVICES, and a CPU task beside them sees none. Real
 * coordinator, real gRPC stream, real processes (the cards are declared,
 * so this runs on any machine).
 */
describe('worker device pinning', () => {
  let t: TestAgent;
  let dir: string;
  let c: Coordinator;

  beforeAll(async () => {
    const card = (index: number) => create(DeviceSchema, { kind: DeviceKind.CUDA, index, model: 'Test GPU', memoryBytes: 80n << 30n });
    t = await startTestAgent({ slots: 3, devices: [card(0), card(1)] });
    ({ dir, coordinator: c } = t);
  });

  afterAll(() => t.stop());

  it('gives each GPU task its own card and hides the cards from a CPU task', async () => {
    // Each task records what it sees, then waits for the others to start, so all three overlap.
    const marks = path.join(dir, 'marks');
    fs.mkdirSync(marks);
    const script = (name: string) => `echo "[\${CUDA_VISIBLE_DEVICES-unset}] [\${DTF_DEVICES-unset}]" > ${marks}/${name}; ` +
      `for i in $(seq 400); do [ $(ls ${marks} | wc -l) -ge 3 ] && break; sleep 0.05; done`;
    const gpu = create(RequirementsSchema, { anyOf: [DeviceKind.CUDA] });
    const tasks = [
      create(TaskSpecSchema, { name: 'gpu-a', shell: script('gpu-a'), requirements: gpu }),
      create(TaskSpecSchema, { name: 'gpu-b', shell: script('gpu-b'), requirements: gpu }),
      create(TaskSpecSchema, { name: 'cpu', shell: script('cpu') }),
    ];
    const res = await c.impls.scheduler.submitJob(create(SubmitJobRequestSchema, { name: 'pin', tasks }), {} as never);
    const jobId = String(res.job?.id);
    const deadline = Date.now() + 30_000;
    while (c.state.jobs.get(jobId)!.job.state !== JobState.SUCCEEDED && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(c.state.jobs.get(jobId)!.job.state).toBe(JobState.SUCCEEDED);
    const seen = (name: string) => fs.readFileSync(path.join(marks, name), 'utf8').trim();
    expect([seen('gpu-a'), seen('gpu-b')].sort()).toEqual(['[0] [cuda:0]', '[1] [cuda:1]']);
    expect(seen('cpu')).toBe('[] []');
  });
});
