import { Code, ConnectError } from '@connectrpc/connect';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkRun, fail } from '../support/chaos-checks';
import { eventually, sleep } from '../support/dtf-process';
import { RaftCluster, Submitter } from '../support/raft-cluster';
import { createClient } from '@connectrpc/connect';
import { RegistryService } from '../../libs/gen/dtf/registry/v1/registry_service_pb';

const big = (_: string, v: unknown) => (typeof v === 'bigint' ? String(v) : v);
const registry = (c: RaftCluster, id: number) => createClient(RegistryService, c.transport(c.address(id))).listWorkers({ includeGone: true });

jest.setTimeout(300_000);

const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);
/** Small, so that a follower cut off for a few seconds falls behind the compacted log. */
const snapshotEntries = 100;
const leaseMs = 2000;

/*
 * One cluster, one steady stream of submissions, and a sequence of faults;
 * the end-of-run checks cover the whole history. Each step also checks what
 * is particular to its fault.
 */
describe(`chaos: partitions, compaction, membership, crashes, pauses and lossy links (seed ${seed})`, () => {
  const c = new RaftCluster({ members: 3, workers: 3, seed, snapshotEntries, leaseMs, tickMs: 30 });
  const sub = new Submitter(c);
  let failed = false;
  /** Like `it`, but a failure also keeps the run's directory and logs for the post-mortem. */
  const step = (name: string, fn: () => Promise<void>) =>
    it(name, async () => {
      try {
        await fn();
      } catch (e) {
        failed = true;
        throw e;
      }
    });

  beforeAll(async () => {
    failed = true;
    await c.start();
    sub.start();
    await sub.nextAck();
    failed = false;
  });

  afterAll(async () => {
    await sub.stop();
    await c.stop(failed);
    if (failed) console.log(`chaos run kept for inspection: ${c.reproduce()}`);
  });

  step('a leader partitioned into a minority steps down and never serves a stale read', async () => {
    const old = await c.leader();
    c.isolate(old, true);
    try {
      await partitioned(old);
    } finally {
      c.isolate(old, false);
    }
    await c.settled();
  });

  /** While `old` is cut off: the rest elect a leader, `old` steps down and refuses reads. */
  async function partitioned(old: number): Promise<void> {
    const rest = c.ids.filter((id) => id !== old);
    const leader = await c.leader(20_000, rest);
    // A job the old leader cannot know about.
    void leader;
    const key = `after-partition-${seed}`;
    await sub.submit(key, 1, 'true');
    await eventually('the old leader to step down', async () => (await c.status(old))?.role !== 'leader', 10_000, 50);
    const read = await c.scheduler(old).getJob({ jobId: sub.acked.get(key)! }, { timeoutMs: 5000 }).then(
      () => 'served',
      (e: unknown) => (e instanceof ConnectError ? Code[e.code] : String(e)),
    );
    // NotFound would be a stale answer; the old leader must refuse instead.
    if (read !== 'Unavailable') fail(c, `a read through the partitioned old leader answered ${read}, not Unavailable`);
    await sub.nextAck();
  }

  step('a follower cut off until the log is compacted past it catches up by snapshot', async () => {
    const leader = await c.leader();
    const follower = c.ids.find((id) => id !== leader)!;
    const before = (await c.status(follower))!;
    c.isolate(follower, true);
    try {
      // A burst on top of the steady load, so compaction overtakes the follower soon.
      await Promise.all(Array.from({ length: snapshotEntries }, (_, i) => sub.submit(`burst-${seed}-${i}`, 1, 'true')));
      await eventually('the log compacted past the follower', async () => {
        const st = await c.status(await c.leader(20_000, c.ids.filter((id) => id !== follower)));
        return st !== undefined && st.snapshotIndex > before.lastIndex + BigInt(snapshotEntries);
      }, 60_000, 200);
    } finally {
      c.isolate(follower, false);
    }
    await c.settled();
    const after = (await c.status(follower))!;
    if (after.snapshotsInstalled < 1n) fail(c, `member ${follower} caught up without installing a snapshot`);
  });

  step('adds and removes a member under load', async () => {
    await c.addPorts(4);
    await c.startMember(4, ['--join']);
    const leader = await c.leader(20_000, [1, 2, 3]);
    await c.cluster(leader).addMember({ id: 4n, address: c.address(4) }, { timeoutMs: 10_000 });
    await c.settled();
    // The log was compacted long ago: the new member can only have caught up by snapshot.
    if ((await c.status(4))!.snapshotsInstalled < 1n) fail(c, 'member 4 joined without installing a snapshot');
    const removed = c.ids.find((id) => id !== leader && id !== 4)!;
    await c.cluster(leader).removeMember({ id: BigInt(removed) }, { timeoutMs: 10_000 });
    await c.members.get(removed)!.stop();
    c.forget(removed);
    await sub.nextAck();
    const st = (await c.status(await c.leader()))!;
    expect(st.members.map((m) => Number(m.id)).sort()).toEqual(c.ids.sort());
    await c.settled();
  });

  step('survives kill -9 of a worker and of the collector mid-run', async () => {
    c.workers[0].kill9();
    await c.workers[0].exited;
    c.collector!.kill9();
    await c.collector!.exited;
    await sub.nextAck();
    c.workers[0] = c.startWorker(1);
    await c.restartCollector().waitFor(/listening on/);
    await sub.nextAck();
  });

  step('rejects the late results of a worker paused past its lease', async () => {
    const leader = await c.leader();
    const staleBefore = (await c.scheduler(leader).getStatus({})).staleResultsRejected;
    const key = `long-${seed}`;
    // Ahead of the steady load's backlog, which grows when the machine is slow.
    const job = await c.scheduler(leader).submitJob({ name: key, idempotencyKey: key, tasks: Array.from({ length: 6 }, () => ({ shell: 'sleep 1.5', priority: 10 })) });
    // Pause whichever worker runs one of the long tasks first.
    const ids = c.workers.map((_, i) => fs.readFileSync(path.join(c.dir, `worker-${i + 1}`, 'worker-id'), 'utf8').trim());
    const w = await eventually('a long task running on a worker', async () => {
      const { tasks } = await c.scheduler(await c.leader()).listTasks({ jobId: job.job!.id, pageSize: 100 });
      return ids.findIndex((id) => tasks.some((t) => t.workerId === id)) + 1; // 0: none yet
    }, 30_000, 50).catch(async (e: Error) => {
      const st = await c.scheduler(await c.leader()).getStatus({});
      const { workers } = await registry(c, await c.leader());
      return fail(c, `${e.message}; leader status ${JSON.stringify(st, big)}; workers ${JSON.stringify(workers.map((x) => [x.id, x.name, x.state, x.running.length]), big)}`);
    });
    const paused = c.workers[w - 1];
    const name = `w${w}`;
    paused.child.kill('SIGSTOP');
    await sleep(leaseMs + 1500);
    paused.child.kill('SIGCONT');
    await eventually('the late results rejected', async () => {
      const st = await c.scheduler(await c.leader()).getStatus({});
      return st.staleResultsRejected > staleBefore;
    }, 20_000, 100).catch(() => fail(c, `no late result of paused worker ${name} was rejected`));
    sub.acked.set(key, job.job!.id);
  });

  step('hands leadership over on SIGTERM', async () => {
    const leader = await c.leader();
    const p = c.members.get(leader)!;
    await p.stop();
    if (!/handing leadership over/.test(p.output)) fail(c, `member ${leader} stopped without handing over`);
    await c.leader(10_000, c.ids.filter((id) => id !== leader));
    await c.startMember(leader);
    await sub.nextAck();
  });

  step('keeps accepting submissions over slow, lossy links whose connections are reset', async () => {
    const peerLinks = [...c.proxies].filter(([key]) => !key.startsWith('w')).map(([, p]) => p);
    for (const p of c.proxies.values()) p.faults.delayMs = 5 + Math.floor(c.random() * 20);
    for (const p of peerLinks) p.faults.dropRate = 0.3;
    try {
      for (let round = 0; round < 3; round++) {
        for (const p of peerLinks) if (c.random() < 0.5) p.reset();
        await sub.nextAck();
      }
    } finally {
      for (const p of c.proxies.values()) {
        p.faults.delayMs = 0;
        p.faults.dropRate = 0;
      }
    }
    await sub.nextAck();
  });

  step('keeps every acknowledged submission, records each result once, and the replicas agree', async () => {
    await sub.stop();
    await checkRun(c, sub);
  });
});
