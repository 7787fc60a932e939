import { createClient } from '@connectrpc/connect';
import { Code, ConnectError } from '@connectrpc/connect';
import { DuckDBInstance } from '@duckdb/node-api';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DeviceKind } from '../../libs/gen/dtf/common/v1/common_pb';
import { SchedulerService } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { createGrpcTransport } from '../../libs/rpc/grpc-transport';
import { Cluster } from '../support/cluster';
import { eventually, runDtf, sleep } from '../support/dtf-process';

jest.setTimeout(180_000);

const junitTask = {
  name: 'junit',
  shell: `printf '<testsuite name="s"><testcase classname="c" name="t1" time="0.1"/><testcase classname="c" name="t2" time="0.2"/></testsuite>' > "$DTF_OUTPUT_DIR/junit.xml"`,
};
const metricsTask = {
  name: 'metrics',
  shell: `echo '{"latency_ms": 12.5, "throughput": {"value": 100, "unit": "items/s"}}' > "$DTF_OUTPUT_DIR/metrics.json"`,
};

describe('a suite runs end to end on one machine', () => {
  const cluster = new Cluster({ workers: 2 });
  let restJob = '';

  beforeAll(async () => {
    await cluster.start();
  });

  afterAll(async () => {
    await cluster.stop();
  });

  it('runs a job submitted over REST and keeps its results', async () => {
    const res = await cluster.post('/api/tasks/submit', { name: 'rest-job', tasks: [junitTask, metricsTask, { name: 'fails', argv: ['node', '-e', 'process.exit(3)'] }] });
    expect(res.status).toBe(200);
    restJob = res.body.job.id;
    const tasks = await cluster.waitForJob(restJob);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const byName: Record<string, any> = Object.fromEntries(tasks.map((t: { spec: { name: string } }) => [t.spec.name, t]));
    expect(byName.junit.state).toBe('TASK_STATE_SUCCEEDED');
    expect(byName.metrics.state).toBe('TASK_STATE_SUCCEEDED');
    expect(byName.fails.state).toBe('TASK_STATE_FAILED');
    expect(byName.fails.result.exitCode).toBe(3);

    const result = await cluster.get(`/api/results/${byName.junit.id}`);
    expect(result.attempts).toHaveLength(1);
    expect(result.attempts[0].testCases.map((c: { name: string }) => c.name)).toEqual(['t1', 't2']);
    const workers = new Set(tasks.map((t: { result: { workerId: string } }) => t.result.workerId));
    expect([...workers].every((w) => [cluster.workerId(0), cluster.workerId(1)].includes(w as string))).toBe(true);
  });

  it('runs a suite through `dtf run` with progress, a results table and JUnit output', async () => {
    const junit = path.join(cluster.dir, 'out.xml');
    const run = await runDtf(['run', 'examples/cpu-bench/suite.yaml', '--gateway', cluster.gatewayUrl, '--junit', junit]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\[4\/4\] succeeded/);
    expect(run.stdout).toMatch(/4 tasks: 4 succeeded, 0 failed/);
    expect(run.stdout).toMatch(/ops_per_sec=/);
    expect(fs.readFileSync(junit, 'utf8').match(/<testsuite /g)).toHaveLength(4);
  });

  it('exits 1 when tests fail', async () => {
    const file = path.join(cluster.dir, 'failing.yaml');
    fs.writeFileSync(file, 'name: failing\ntasks:\n  - name: bad\n    command: "exit 1"\n');
    const run = await runDtf(['run', file, '--gateway', cluster.gatewayUrl, '--json']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).state).toBe('failed');
  });

  it('makes test cases and metrics queryable from the collector', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const connect = (method: string, body: unknown): Promise<any> =>
      fetch(`${cluster.gatewayUrl}/dtf.result.v1.CollectorService/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json());
    let cases: { testCases?: unknown[] } = {};
    for (let i = 0; i < 100 && (cases.testCases?.length ?? 0) < 2; i++) {
      cases = await connect('ListTestCases', { jobId: restJob });
      await sleep(100);
    }
    expect(cases.testCases).toHaveLength(2);
    const metrics = await connect('ListMetrics', { jobId: restJob });
    expect(metrics.metrics.map((m: { metric: { name: string } }) => m.metric.name).sort()).toEqual(['latency_ms', 'throughput']);
    const db = await cluster.get('/api/health/db');
    expect(db.status).toBe('ok');
    expect(Number(db.attempts)).toBeGreaterThanOrEqual(7);
  });

  it('keeps a cuda task off CPU-only workers, pending with a reason', async () => {
    const res = await cluster.post('/api/tasks/submit', { name: 'gpu', tasks: [{ name: 'needs-cuda', shell: 'nvidia-smi', requirements: { anyOf: ['DEVICE_KIND_CUDA'] } }] });
    const taskId = res.body.taskIds[0];
    await sleep(1500);
    const { task } = await cluster.get(`/api/tasks/${taskId}`);
    expect(task.state).toBe('TASK_STATE_PENDING');
    expect(task.attempt).toBe(0);
    expect(task.pendingReason).toMatch(/no live worker can run it: w\d: no cuda device \(has cpu\); w\d: no cuda device/);
  });

  it('answers bad input with clear errors and changes nothing', async () => {
    const before = (await cluster.get('/api/jobs?page_size=1000')).jobs.length;
    const nf = await fetch(`${cluster.gatewayUrl}/api/tasks/no-such-task`);
    expect(nf.status).toBe(404);
    expect(((await nf.json()) as { error: unknown }).error).toEqual({ code: 'not_found', message: 'task "no-such-task" not found' });
    expect((await fetch(`${cluster.gatewayUrl}/api/results/nope`)).status).toBe(404);
    expect((await fetch(`${cluster.gatewayUrl}/api/no/such/route`)).status).toBe(404);

    const wrongType = await cluster.post('/api/tasks/submit', { name: 'x', tasks: 'not a list' });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.message).toMatch(/tasks/);
    const both = await cluster.post('/api/tasks/submit', { tasks: [{ shell: 'true', argv: ['true'] }] });
    expect(both.status).toBe(400);
    expect(both.body.error.message).toMatch(/tasks\[0\]: set exactly one of argv and shell/);
    const notJson = await cluster.post('/api/tasks/submit', '{"name": ');
    expect(notJson.status).toBe(400);
    const huge = await cluster.post('/api/tasks/submit', { name: 'x'.repeat(5 * 1024 * 1024), tasks: [{ shell: 'true' }] });
    expect(huge.status).toBe(413);
    expect(huge.body.error.message).toMatch(/limit/);

    const grpc = createGrpcTransport(cluster.coordinatorAddress);
    const scheduler = createClient(SchedulerService, grpc);
    await expect(scheduler.getJob({ jobId: 'nope' })).rejects.toMatchObject({ code: Code.NotFound });
    const big = scheduler.submitJob({ name: 'big', tasks: [{ shell: 'x'.repeat(5 * 1024 * 1024) }] });
    await expect(big).rejects.toBeInstanceOf(ConnectError);
    await expect(big).rejects.toMatchObject({ code: Code.ResourceExhausted });
    grpc.close();

    const bad = path.join(cluster.dir, 'bad.yaml');
    fs.writeFileSync(bad, 'name: bad\ntasks:\n  - name: a\n    command: "true"\n    requires:\n      gpu_memory: "40G"\n');
    const run = await runDtf(['run', bad, '--gateway', cluster.gatewayUrl]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/bad\.yaml:6:\d+: tasks\[0\]\.requires\.gpu_memory: "40G" is not a size/);

    expect((await cluster.get('/api/jobs?page_size=1000')).jobs.length).toBe(before);
  });

  it('carries a job near the 4 MiB request limit through the feed into DuckDB', async () => {
    const before = Number((await cluster.get('/api/health/db')).tasks);
    // Just under 4 MiB as a request; as a feed event, with task ids and job ids added, over it.
    const tasks = Array.from({ length: 10_000 }, (_, i) => ({ name: `big-${i}`, shell: `echo ${'x'.repeat(370)}`, requirements: { anyOf: [DeviceKind.CUDA] } }));
    const grpc = createGrpcTransport(cluster.coordinatorAddress);
    const res = await createClient(SchedulerService, grpc).submitJob({ name: 'big', tasks });
    grpc.close();
    await eventually('the big job in DuckDB', async () => {
      const db = await cluster.get('/api/health/db');
      return Number(db.tasks) === before + 10_000 && db.lag === '0';
    }, 60_000, 250);
    await cluster.post(`/api/jobs/${res.job!.id}/cancel`, {});
  });

  it('records every result exactly once in the DuckDB file', async () => {
    await cluster.collector.stop();
    const db = await DuckDBInstance.create(cluster.dbPath);
    const conn = await db.connect();
    const rows = async (sql: string) => (await conn.runAndReadAll(sql)).getRowObjects();
    expect(await rows('SELECT task_id, attempt, count(*) AS n FROM attempts GROUP BY ALL HAVING count(*) > 1')).toEqual([]);
    const [{ n }] = await rows(`SELECT count(*) AS n FROM test_cases WHERE job_id = '${restJob}'`);
    expect(Number(n)).toBe(2);
    const metrics = await rows(`SELECT name, value FROM metrics WHERE job_id = '${restJob}' ORDER BY name`);
    expect(metrics.map((m) => [m.name, m.value])).toEqual([['latency_ms', 12.5], ['throughput', 100]]);
    const states = await rows(`SELECT state, count(*) AS n FROM tasks WHERE job_id = '${restJob}' GROUP BY ALL ORDER BY state`);
    expect(states.map((s) => [s.state, Number(s.n)])).toEqual([['failed', 1], ['succeeded', 2]]);
    conn.closeSync();
  });
});

describe('workers that poll over HTTP, and draining on SIGTERM', () => {
  const cluster = new Cluster({ workers: 2, slots: 2, workerArgs: (i) => ['--label', `pool=p${i + 1}`] });

  beforeAll(async () => {
    await cluster.start();
  });

  afterAll(async () => {
    await cluster.stop();
  });

  it('registers an HTTP-only worker, hands it work in status replies, and acknowledges its results', async () => {
    const reg = await cluster.post('/api/workers/register', { workerId: 'http-1', name: 'poller', slots: 1, labels: { pool: 'http' }, hardware: { cpuCores: 1, devices: [{ kind: 'DEVICE_KIND_CPU' }] } });
    expect(reg.status).toBe(200);
    expect(reg.body.worker.httpOnly).toBe(true);
    const sub = await cluster.post('/api/tasks/submit', { name: 'http', tasks: [{ shell: 'true', requirements: { labels: { pool: 'http' } } }] });
    const taskId = sub.body.taskIds[0];
    const assignment = await eventually('an assignment in a status reply', async () => {
      const st = await cluster.post('/api/workers/status', { workerId: 'http-1', freeSlots: 1 });
      return st.body.assignments?.[0];
    });
    expect(assignment.key).toEqual({ taskId, attempt: 1 });
    const done = await cluster.post('/api/workers/status', { workerId: 'http-1', freeSlots: 1, results: [{ key: assignment.key, outcome: 'ATTEMPT_OUTCOME_SUCCEEDED' }] });
    expect(done.body.acked).toEqual([{ taskId, attempt: 1 }]);
    expect((await cluster.get(`/api/tasks/${taskId}`)).task.state).toBe('TASK_STATE_SUCCEEDED');
    const unknown = await cluster.post('/api/workers/status', { workerId: 'nobody' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/not registered/);
  });

  it('lets a worker finish what it runs on SIGTERM, then exit', async () => {
    const sub = await cluster.post('/api/tasks/submit', { name: 'drain', tasks: [{ name: 'one', shell: 'sleep 1.5', requirements: { labels: { pool: 'p1' } } }] });
    const taskId = sub.body.taskIds[0];
    await eventually('task running', async () => (await cluster.get(`/api/tasks/${taskId}`)).task.state === 'TASK_STATE_RUNNING');
    cluster.workers[0].child.kill('SIGTERM');
    expect(await cluster.workers[0].exited).toBe(0);
    const { task } = await cluster.get(`/api/tasks/${taskId}`);
    expect(task.state).toBe('TASK_STATE_SUCCEEDED');
    expect(task.attempt).toBe(1);
  });
});
