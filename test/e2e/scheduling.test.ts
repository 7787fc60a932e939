import * as fs from 'node:fs';
import * as path from 'node:path';
import { eventually, runDtf } from '../support/dtf-process';
import { PolicyCluster } from '../support/policy-cluster';

jest.setTimeout(60_000);

/** True while `pid` runs. A zombie (dead, waiting for its parent to reap it) counts as gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
  try {
    // "pid (comm) S ...": the state follows the last ")".
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}

/** Reads the pids a task wrote, once the file is complete. */
async function pidsIn(file: string): Promise<number[]> {
  const text = await eventually(`pids in ${file}`, async () => fs.existsSync(file) && fs.readFileSync(file, 'utf8'), 20_000, 50);
  return text.trim().split(/\s+/).map(Number);
}

/**
 * A shell that ignores SIGTERM and leaves a grandchild that ignores it too
 * (an ignored signal stays ignored across exec), then writes both pids: only
 * killing the process group with SIGKILL ends it.
 */
const stubborn = (pidFile: string) =>
  `trap "" TERM; sleep 300 & echo "$$ $!" > "${pidFile}.tmp"; mv "${pidFile}.tmp" "${pidFile}"; wait; wait`;

describe('scheduling on a fleet of real workers', () => {
  const cluster = new PolicyCluster({
    workers: [
      { name: 'main', slots: 2, labels: ['pool=main'] },
      { name: 'one', slots: 1, labels: ['pool=one'] },
      { name: 'flaky', slots: 1, labels: ['pool=flaky'] },
    ],
    coordinator: { cancelGraceMs: 300 },
  });
  const dtf = (...args: string[]) => runDtf([...args, '--gateway', cluster.gatewayUrl]);
  const submit = async (body: unknown): Promise<string> => {
    const res = await cluster.post('/api/tasks/submit', body);
    if (res.status !== 200) throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.job.id;
  };
  const task = async (id: string) => (await cluster.get(`/api/tasks/${id}`)).task;

  beforeAll(async () => {
    await cluster.start();
  });

  afterAll(async () => {
    await cluster.stop();
  });

  it('cancelling a task (REST) or a job (dtf cancel) kills every process of its group, SIGTERM-proof ones included', async () => {
    const files = [path.join(cluster.dir, 'a.pids'), path.join(cluster.dir, 'b.pids')];
    const onMain = { labels: { pool: 'main' } };
    const jobA = await submit({ name: 'cancel-task', tasks: [{ name: 'stubborn', shell: stubborn(files[0]), requirements: onMain }] });
    const jobB = await submit({ name: 'cancel-job', tasks: [{ name: 'stubborn', shell: stubborn(files[1]), requirements: onMain }] });
    const pids = [...(await pidsIn(files[0])), ...(await pidsIn(files[1]))];
    expect(pids).toHaveLength(4);
    expect(pids.every(alive)).toBe(true);

    const [rest, cli] = await Promise.all([cluster.post(`/api/tasks/${jobA}.1/cancel`, {}), dtf('cancel', jobB)]);
    expect(rest.status).toBe(200);
    expect(cli).toMatchObject({ code: 0, stdout: `${jobB} cancelled\n` });

    await eventually('every process of both groups to be gone', async () => pids.every((p) => !alive(p)), 10_000, 50);
    expect((await task(`${jobA}.1`)).state).toBe('TASK_STATE_CANCELLED');
    expect((await task(`${jobB}.1`)).state).toBe('TASK_STATE_CANCELLED');
    expect((await cluster.get(`/api/jobs/${jobB}`)).job.state).toBe('JOB_STATE_CANCELLED');
  });

  it('explains a task no live worker could ever run, over REST and with dtf explain', async () => {
    const job = await submit({ name: 'cuda', tasks: [{ name: 'needs-cuda', shell: 'true', requirements: { anyOf: ['DEVICE_KIND_CUDA'] } }] });
    const x = await cluster.get(`/api/tasks/${job}.1/explain`);
    expect(x.neverRunnable).toBe(true);
    expect(x.summary).toMatch(/^no live worker could ever run it: /);
    expect(x.workers.map((w: { workerName: string }) => w.workerName).sort()).toEqual(['flaky', 'main', 'one']);
    for (const w of x.workers) {
      expect(w.verdict).toBe('VERDICT_MISSING_DEVICE');
      expect(w.reason).toMatch(/cuda/);
    }

    const human = await dtf('explain', `${job}.1`);
    expect(human.stderr).toBe('');
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(x.summary);
    expect(human.stdout).toMatch(/never runnable/);
    expect(human.stdout.match(/missing device/g)).toHaveLength(3);

    const json = await dtf('explain', `${job}.1`, '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ neverRunnable: true, summary: x.summary });

    const unknown = await dtf('explain', 'no-such-task');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^dtf: notfound: task "no-such-task" not found\n$/);
    expect(unknown.stdout).toBe('');
    expect((await fetch(`${cluster.gatewayUrl}/api/tasks/no-such-task/explain`)).status).toBe(404);

    await cluster.post(`/api/jobs/${job}/cancel`, {});
  });

  describe('one worker with one slot, busy', () => {
    const release = () => path.join(cluster.dir, 'release');
    const onOne = { labels: { pool: 'one' } };
    let blocker = '';
    let low = '';
    let high = '';

    it('queues tasks behind the busy worker and explains the wait: BUSY, and their queue positions', async () => {
      blocker = await submit({ name: 'blocker', tasks: [{ name: 'hold', shell: `while [ ! -f "${release()}" ]; do sleep 0.05; done`, requirements: onOne }] });
      await eventually('the blocker to run', async () => (await task(`${blocker}.1`)).state === 'TASK_STATE_RUNNING');
      // Submitted first at low priority, then at high: the later one must go first.
      low = await submit({ name: 'low', tasks: [{ name: 'low', shell: 'true', priority: -5, requirements: onOne }] });
      high = await submit({ name: 'high', tasks: [{ name: 'high', shell: 'true', priority: 10, requirements: onOne }] });

      const x = await cluster.get(`/api/tasks/${low}.1/explain`);
      expect(x.neverRunnable).toBe(false);
      expect([x.queuePosition, x.queueLength]).toEqual([2, 2]);
      expect(x.summary).toBe('position 2 of 2 in its queue; waiting: 1 able worker is busy');
      const byName = Object.fromEntries(x.workers.map((w: { workerName: string }) => [w.workerName, w]));
      expect(byName.one).toMatchObject({ verdict: 'VERDICT_BUSY', reason: 'no free slot' });
      expect(byName.main.verdict).toBe('VERDICT_LABEL_MISMATCH');
      expect(byName.flaky.verdict).toBe('VERDICT_LABEL_MISMATCH');
      expect((await cluster.get(`/api/tasks/${high}.1/explain`)).queuePosition).toBe(1);

      const human = await dtf('explain', `${low}.1`);
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/queue position +2 of 2/);
      expect(human.stdout).toMatch(/^one +\S+ +busy +no free slot$/m);
      expect(human.stdout).not.toMatch(/never runnable/);
    });

    it('starts the higher-priority task first when the slot frees', async () => {
      fs.writeFileSync(release(), '');
      const [h] = await cluster.waitForJob(high, 20_000);
      const [l] = await cluster.waitForJob(low, 20_000);
      expect([h.state, l.state]).toEqual(['TASK_STATE_SUCCEEDED', 'TASK_STATE_SUCCEEDED']);
      expect(BigInt(h.result.finishedAtMs)).toBeLessThanOrEqual(BigInt(l.result.startedAtMs));
      expect((await task(`${blocker}.1`)).state).toBe('TASK_STATE_SUCCEEDED');
    });
  });

  it('quarantines a worker after 3 start failures in a row, shows it, and lets an operator clear it', async () => {
    const onFlaky = { labels: { pool: 'flaky' } };
    const id = await cluster.workerIdOf('flaky');
    const broken = await submit({ name: 'broken', tasks: [1, 2, 3].map((i) => ({ name: `missing-${i}`, argv: ['/nonexistent/dtf-no-such-program'], requirements: onFlaky })) });
    const tasks = await cluster.waitForJob(broken, 20_000);
    expect(tasks.map((t) => t.result.outcome)).toEqual(Array(3).fill('ATTEMPT_OUTCOME_START_FAILED'));

    const flaky = (await cluster.get('/api/workers')).workers.find((w: { id: string }) => w.id === id);
    expect(flaky.breaker).toMatchObject({ quarantined: true, consecutiveFailures: 3, trips: 1 });
    expect(flaky.breaker.reason).toMatch(/^3 infrastructure failures in a row, the last: .*dtf-no-such-program/);
    expect(Number(flaky.breaker.untilMs)).toBeGreaterThan(Date.now());

    // Work for it waits, and explain says why.
    const waiting = await submit({ name: 'after', tasks: [{ name: 'fine', shell: 'true', requirements: onFlaky }] });
    const x = await cluster.get(`/api/tasks/${waiting}.1/explain`);
    expect(x.workers.find((w: { workerId: string }) => w.workerId === id)).toMatchObject({ verdict: 'VERDICT_QUARANTINED' });
    expect(x.summary).toMatch(/waiting: 1 quarantined/);

    const workers = await dtf('workers');
    expect(workers.code).toBe(0);
    expect(workers.stdout).toMatch(new RegExp(`^${id} +flaky +online,quarantined `, 'm'));
    expect(workers.stdout).toMatch(new RegExp(`^flaky \\(${id}\\) quarantined, until .*3 infrastructure failures in a row.*dtf quarantine clear ${id}`, 'm'));
    expect((await dtf('status')).stdout).toMatch(/^quarantined +1 workers$/m);

    const cleared = await dtf('quarantine', 'clear', id);
    expect(cleared).toMatchObject({ code: 0, stdout: `flaky (${id}) is back in service\n` });
    const after = (await cluster.get('/api/workers')).workers.find((w: { id: string }) => w.id === id);
    expect(after.breaker?.quarantined ?? false).toBe(false);
    expect(after.breaker?.consecutiveFailures ?? 0).toBe(0);
    expect((await dtf('workers')).stdout).not.toMatch(/quarantined/);
    // Back in service, it runs the task that waited.
    expect((await cluster.waitForJob(waiting, 20_000))[0].state).toBe('TASK_STATE_SUCCEEDED');

    // The REST route does the same, and names an unknown worker.
    expect((await cluster.post(`/api/workers/${id}/clear_quarantine`, {})).status).toBe(200);
    const missing = await cluster.post('/api/workers/no-such-worker/clear_quarantine', {});
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toMatch(/worker "no-such-worker" not found/);
  });
});

describe('a coordinator at its queue bound', () => {
  // Priority 0 may fill 90% of a bound and priority > 0 all of it: 3 and 4 tasks here.
  const cluster = new PolicyCluster({ workers: [], coordinator: { policy: { bounds: { queuedMax: 4, tenantQueuedMax: 1000 } } } });
  const dtf = (...args: string[]) => runDtf([...args, '--gateway', cluster.gatewayUrl]);
  const jobCount = async () => (await cluster.get('/api/jobs')).jobs.length;

  beforeAll(async () => {
    await cluster.start();
  });

  afterAll(async () => {
    await cluster.stop();
  });

  it('sheds a submission past the bound with 429 and Retry-After, changes nothing, and finishes what it acknowledged', async () => {
    const first = await cluster.post('/api/tasks/submit', { name: 'fits', tasks: [1, 2, 3].map((i) => ({ name: `t${i}`, shell: 'true' })) });
    expect(first.status).toBe(200);
    expect(await jobCount()).toBe(1);

    const res = await fetch(`${cluster.gatewayUrl}/api/tasks/submit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'too-many', tasks: [{ shell: 'true' }] }) });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('resource_exhausted');
    expect(body.error.message).toMatch(/queue full: 3 tasks queued, 1 more would pass the bound of 3 for priority 0/);
    expect(await jobCount()).toBe(1);

    const suite = path.join(cluster.dir, 'one.yaml');
    fs.writeFileSync(suite, 'name: one\ntasks:\n  - name: t\n    command: "true"\n');
    for (const command of ['submit', 'run']) {
      const cli = await dtf(command, suite);
      expect({ command, code: cli.code }).toEqual({ command, code: 2 });
      expect(cli.stderr).toMatch(/^dtf: submission refused, nothing was queued: queue full: .*bound of 3 for priority 0\. The coordinator is shedding load; submit again in \d+ s\n$/);
    }
    expect(await jobCount()).toBe(1);
    const status = await cluster.get('/api/status');
    expect(status).toMatchObject({ tasksPending: 3, submissionsShed: '3' });
    expect((await dtf('status')).stdout).toMatch(/^shed +3 submissions refused/m);

    // Urgent work may fill the whole bound.
    const urgent = await cluster.post('/api/tasks/submit', { name: 'urgent', tasks: [{ name: 'u', shell: 'true', priority: 1 }] });
    expect(urgent.status).toBe(200);

    cluster.workers.push(cluster.startWorker(0, { name: 'late', slots: 2 }));
    for (const job of [first.body.job.id, urgent.body.job.id]) {
      const tasks = await cluster.waitForJob(job, 30_000);
      expect(tasks.map((t) => t.state)).toEqual(tasks.map(() => 'TASK_STATE_SUCCEEDED'));
    }
    expect(await jobCount()).toBe(2);
  });
});
