import { create } from '@bufbuild/protobuf';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { JobSchema, TaskSchema } from '../../libs/gen/dtf/common/v1/common_pb';
import { ResultService } from '../../libs/gen/dtf/result/v1/result_service_pb';
import { CommandSchema, type Command } from '../../libs/gen/dtf/state/v1/command_pb';
import { inProcessClient } from '../../libs/rpc/in-process-client';
// The ingest bench's log of finished no-op attempts (jobs of 1,000 on worker "w").
import { preparedCoordinator } from '../../bench/ingest-rate';
import type { Coordinator } from '../coordinator/coordinator';
import { Collector } from './collector';
import { quietCheckpointBytes, ResultStore } from './result-store';

const cmd = (kind: Command['kind']) => create(CommandSchema, { timeMs: BigInt(Date.now()), kind });

describe('Collector', () => {
  let dir: string;
  let coordinator: Coordinator | undefined;
  let collector: Collector | undefined;
  const logger = pino({ level: 'silent' });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dtf-collector-'));
  });
  afterEach(async () => {
    await collector?.stop();
    await coordinator?.stop();
    collector = coordinator = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('does not checkpoint while the coordinator still has work, however often it catches up', async () => {
    coordinator = await preparedCoordinator(dir, 10_000);
    // One more job whose task never finishes: the coordinator is not idle.
    await coordinator.log.propose(cmd({ case: 'submitJob', value: { $typeName: 'dtf.state.v1.SubmitJob', job: create(JobSchema, { id: 'open', name: 'open' }), tasks: [create(TaskSchema, { id: 'open.1', spec: { argv: ['true'] } })], placements: [] } }));
    expect(coordinator.state.idle).toBe(false);
    collector = await Collector.start({
      coordinator: `127.0.0.1:${coordinator.port}`, databasePath: join(dir, 'results.duckdb'), feed: inProcessClient(ResultService, coordinator.impls.results), logger,
    });
    await collector.waitFor(coordinator.state.events.last, 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await collector.store.walBytes()).toBeGreaterThanOrEqual(quietCheckpointBytes);
  }, 90_000);

  it('stores a burst of results, then checkpoints the write-ahead log once the coordinator is idle', async () => {
    coordinator = await preparedCoordinator(dir, 10_000);
    const databasePath = join(dir, 'results.duckdb');
    collector = await Collector.start({
      coordinator: `127.0.0.1:${coordinator.port}`, databasePath, feed: inProcessClient(ResultService, coordinator.impls.results), logger,
    });
    await collector.waitFor(coordinator.state.events.last, 60_000);
    // The burst went into the write-ahead log; with the coordinator idle, the collector moves it into the database file.
    const deadline = Date.now() + 20_000;
    while ((await collector.store.walBytes()) >= quietCheckpointBytes && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await collector.store.walBytes()).toBeLessThan(quietCheckpointBytes);
    expect(await collector.store.status()).toMatchObject({ jobs: 10n, tasks: 10_000n, attempts: 10_000n });
    await collector.stop();
    collector = undefined;
    const reopened = await ResultStore.open(databasePath);
    expect(await reopened.status()).toMatchObject({ appliedIndex: coordinator.state.events.last, tasks: 10_000n, attempts: 10_000n });
    await reopened.close();
  }, 90_000);
});
