import { create } from '@bufbuild/protobuf';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { DeviceKind, DeviceSchema, HardwareSchema, type Device } from '../../libs/gen/dtf/common/v1/common_pb';
import { Coordinator } from '../coordinator/coordinator';
import { WorkerAgent } from './agent';

/** A coordinator and one in-process worker agent on it, for tests of the agent. */
export interface TestAgent {
  dir: string;
  coordinator: Coordinator;
  agent: WorkerAgent;
  stop(): Promise<void>;
}

/**
 * Starts a coordinator (real gRPC on a free loopback port) and a worker agent
 * connected to it, with declared hardware (a CPU plus `devices`) so the test
 * runs the same on any machine. Resolves once the worker is welcomed.
 */
export async function startTestAgent(opts: { slots: number; prefetch?: number; devices?: Device[] }): Promise<TestAgent> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtf-agent-test-'));
  const logger = pino({ level: 'silent' });
  const coordinator = await Coordinator.start({ dataDir: path.join(dir, 'coord'), listen: '127.0.0.1:0', logger });
  const agent = new WorkerAgent({
    coordinators: [`127.0.0.1:${coordinator.port}`], dataDir: path.join(dir, 'worker'), slots: opts.slots, prefetch: opts.prefetch, logger,
    hardware: create(HardwareSchema, {
      hostname: 'h', os: 'linux', arch: 'x64', cpuModel: 'cpu', cpuCores: 4, memoryBytes: 1n << 34n,
      devices: [create(DeviceSchema, { kind: DeviceKind.CPU }), ...(opts.devices ?? [])],
    }),
  });
  agent.start();
  await agent.ready;
  return {
    dir, coordinator, agent,
    async stop() {
      await agent.stop();
      await coordinator.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
