import { DuckDBInstance } from '@duckdb/node-api';
import { Cluster } from '../support/cluster';
import { eventually } from '../support/dtf-process';

jest.setTimeout(120_000);

describe('kill -9 of a worker mid-task', () => {
  const cluster = new Cluster({ workers: 2, slots: 1, heartbeatMs: 200, leaseMs: 2000 });

  beforeAll(async () => {
    await cluster.start();
  });

  afterAll(async () => {
    await cluster.stop();
  });

  it('runs the task again elsewhere and records its result exactly once', async () => {
    const res = await cluster.post('/api/tasks/submit', { name: 'crash', tasks: [{ name: 'slow', shell: 'sleep 3; echo done' }] });
    const taskId: string = res.body.taskIds[0];
    const running = await eventually('task running', async () => {
      const { task } = await cluster.get(`/api/tasks/${taskId}`);
      return task.state === 'TASK_STATE_RUNNING' ? task : undefined;
    });
    const victim = [0, 1].find((i) => cluster.workerId(i) === running.workerId)!;
    expect(victim).toBeDefined();
    cluster.workers[victim].kill9();

    const [task] = await cluster.waitForJob(res.body.job.id);
    expect(task.state).toBe('TASK_STATE_SUCCEEDED');
    const { attempts } = await cluster.get(`/api/results/${taskId}`);
    expect(attempts.map((a: { outcome: string }) => a.outcome)).toEqual(['ATTEMPT_OUTCOME_WORKER_LOST', 'ATTEMPT_OUTCOME_SUCCEEDED']);
    expect(attempts[1].workerId).toBe(cluster.workerId(1 - victim));
    expect(attempts[1].stdoutTail).toBe('done\n');

    await eventually('collector caught up', async () => Number((await cluster.get('/api/health/db')).lag) === 0 && (await cluster.get('/api/health/db')).attempts === '2');
    await cluster.collector.stop();
    const db = await DuckDBInstance.create(cluster.dbPath);
    const conn = await db.connect();
    const rows = (await conn.runAndReadAll(`SELECT attempt, outcome, worker_id FROM attempts WHERE task_id = '${taskId}' ORDER BY attempt`)).getRowObjects();
    expect(rows.map((r) => [r.attempt, r.outcome])).toEqual([[1, 'worker_lost'], [2, 'succeeded']]);
    const tasks = (await conn.runAndReadAll(`SELECT state FROM tasks WHERE task_id = '${taskId}'`)).getRowObjects();
    expect(tasks).toEqual([{ state: 'succeeded' }]);
    conn.closeSync();
  });
});
