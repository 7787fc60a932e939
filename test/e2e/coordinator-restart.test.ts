import { createClient } from '@connectrpc/connect';
import { DuckDBInstance } from '@duckdb/node-api';
import { SchedulerService } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { createGrpcTransport } from '../../libs/rpc/grpc-transport';
import { Cluster } from '../support/cluster';
import { eventually, sleep } from '../support/dtf-process';

jest.setTimeout(180_000);

describe('kill -9 of the coordinator, then restart', () => {
  const cluster = new Cluster({ workers: 2, slots: 2, heartbeatMs: 300, leaseMs: 8000 });

  beforeAll(async () => {
    await cluster.start();
  });

  afterAll(async () => {
    await cluster.stop();
  });

  it('loses no acknowledged submission; workers reconnect and finish', async () => {
    const transport = createGrpcTransport(cluster.coordinatorAddress);
    const scheduler = createClient(SchedulerService, transport);
    const acked: string[] = [];
    let attempted = 0;
    let stop = false;
    // Like a real client: a submission that got no answer is retried under
    // the same idempotency key until it is acknowledged.
    const submitter = (async () => {
      for (let i = 0; !stop; i++) {
        for (;;) {
          attempted++;
          try {
            const res = await scheduler.submitJob(
              { name: `load-${i}`, idempotencyKey: `load-${i}`, tasks: [{ shell: 'sleep 0.2' }, { shell: 'sleep 0.1' }] },
              { timeoutMs: 2000 },
            );
            acked.push(res.job!.id);
            break;
          } catch {
            await sleep(50);
          }
        }
      }
    })();
    await eventually('some acknowledged jobs', async () => acked.length >= 15);
    cluster.coordinator.kill9();
    await cluster.coordinator.exited;
    const ackedAtKill = acked.length;
    await sleep(300);
    await cluster.startCoordinator();
    await eventually('submissions accepted again', async () => acked.length >= ackedAtKill + 5, 30_000);
    stop = true;
    await submitter;
    transport.close();
    expect(attempted).toBeGreaterThan(acked.length);

    for (const jobId of acked) {
      const tasks = await cluster.waitForJob(jobId, 90_000);
      expect(tasks.map((t: { state: string }) => t.state)).toEqual(['TASK_STATE_SUCCEEDED', 'TASK_STATE_SUCCEEDED']);
    }
    const workers = (await cluster.get('/api/workers')).workers;
    expect(workers).toHaveLength(2);

    await eventually('collector caught up', async () => {
      const db = await cluster.get('/api/health/db');
      return db.connected && Number(db.lag) === 0 && Number(db.jobs) >= new Set(acked).size;
    }, 30_000);
    await cluster.collector.stop();
    const db = await DuckDBInstance.create(cluster.dbPath);
    const conn = await db.connect();
    const dupes = (await conn.runAndReadAll('SELECT task_id, attempt FROM attempts GROUP BY ALL HAVING count(*) > 1')).getRowObjects();
    expect(dupes).toEqual([]);
    const jobs = (await conn.runAndReadAll('SELECT job_id FROM jobs')).getRowObjects().map((r) => r.job_id);
    expect(new Set(jobs)).toEqual(new Set(acked));
    conn.closeSync();
  });
});
