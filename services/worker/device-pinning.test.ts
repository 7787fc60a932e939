import { create } from '@bufbuild/protobuf';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { DeviceKind, DeviceSchema, HardwareSchema, JobState, RequirementsSchema, TaskSpecSchema } from '../../libs/gen/dtf/common/v1/common_pb';
import { SubmitJobRequestSchema } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { Coordinator } from '../coordinator/coordinator';
import { WorkerAgent } from './agent';

/*
 * Device pinning end to end: a worker with two CUDA cards runs two
 * one-card tasks at once; each sees only its own card in
 * CUDA_VISIBLE_DEVICES, and a CPU task beside them sees none. Real
 * coordinator, real gRPC stream, real processes (the cards are declared,
 * so this runs on any machine).
 */
describe('worker device pinning', () => {
  let dir: string;
  let c: Coordinator;
  let agent: WorkerAgent;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtf-pinning-'));
    c = await Coordinator.start({ dataDir: path.join(dir, 'coord'), listen: '127.0.0.1:0', logger: pino({ level: 'silent' }) });
    const card = (index: number) => create(DeviceSchema, { kind: DeviceKind.CUDA, index, model: 'Test GPU', memoryBytes: 80n << 30n });
    agent = new WorkerAgent({
      coordinators: [`127.0.0.1:${c.port}`], dataDir: path.join(dir, 'worker'), slots: 3,
      logger: pino({ level: 'silent' }),
      hardware: create(HardwareSchema, { hostname: 'h', os: 'linux', arch: 'x64', cpuModel: 'cpu', cpuCores: 4, memoryBytes: 1n << 34n, devices: [create(DeviceSchema, { kind: DeviceKind.CPU }), card(0), card(1)] }),
    });
    agent.start();
    await agent.ready;
  });

  afterAll(async () => {
    await agent.stop();
    await c.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives each GPU task its own card and hides the cards from a CPU task', async () => {
    // Each task records what it sees, then waits for the others to start, so all three overlap.
    const marks = path.join(dir, 'marks');
    fs.mkdirSync(marks);
    const script = (name: string) => `echo "[\${CUDA_VISIBLE_DEVICES-unset}] [\${DTF_DEVICES-unset}]" > ${marks}/${name}; ` +
      `for i in $(seq 100); do [ $(ls ${marks} | wc -l) -ge 3 ] && break; sleep 0.05; done`;
    const gpu = create(RequirementsSchema, { anyOf: [DeviceKind.CUDA] });
    const tasks = [
      create(TaskSpecSchema, { name: 'gpu-a', shell: script('gpu-a'), requirements: gpu }),
      create(TaskSpecSchema, { name: 'gpu-b', shell: script('gpu-b'), requirements: gpu }),
      create(TaskSpecSchema, { name: 'cpu', shell: script('cpu') }),
    ];
    const res = await c.impls.scheduler.submitJob(create(SubmitJobRequestSchema, { name: 'pin', tasks }), {} as never);
    const jobId = String(res.job?.id);
    const deadline = Date.now() + 20_000;
    while (c.state.jobs.get(jobId)!.job.state !== JobState.SUCCEEDED && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(c.state.jobs.get(jobId)!.job.state).toBe(JobState.SUCCEEDED);
    const seen = (name: string) => fs.readFileSync(path.join(marks, name), 'utf8').trim();
    expect([seen('gpu-a'), seen('gpu-b')].sort()).toEqual(['[0] [cuda:0]', '[1] [cuda:1]']);
    expect(seen('cpu')).toBe('[] []');
  });
});
