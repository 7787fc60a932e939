import { checkRun } from '../support/chaos-checks';
import { sleep } from '../support/dtf-process';
import { RaftCluster, Submitter } from '../support/raft-cluster';

jest.setTimeout(240_000);

const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);
/** Leader kills per run (the issue asks for at least ten). */
const kills = 10;

describe(`chaos: kill -9 of the leader, ${kills} times (seed ${seed})`, () => {
  const c = new RaftCluster({ members: 3, workers: 3, seed });
  const sub = new Submitter(c);
  let failed = true;

  beforeAll(async () => {
    await c.start();
  });

  afterAll(async () => {
    await sub.stop();
    await c.stop(failed);
    if (failed) console.log(`chaos run kept for inspection: ${c.reproduce()}`);
  });

  it('loses no acknowledged submission, records each result once, and the replicas agree', async () => {
    sub.start();
    await sub.nextAck();
    const failoverMs: number[] = [];
    for (let k = 0; k < kills; k++) {
      const leader = await c.leader();
      await sleep(100 + Math.floor(c.random() * 300));
      await c.kill9(leader);
      failoverMs.push(await sub.nextAck());
      await c.startMember(leader);
      if (process.env.CHAOS_TRACE) console.log(`kill ${k}: ${failoverMs[k]} ms`, new Date().toISOString());
    }
    // Some worker work in flight across the kills, then let it drain.
    await sleep(500);
    await sub.stop();
    expect(sub.acked.size).toBeGreaterThan(kills);
    expect(sub.attempts).toBeGreaterThan(sub.acked.size);
    await checkRun(c, sub);
    // Every kill forced an election in a later term.
    expect(c.leadersByTerm().size).toBeGreaterThan(kills);
    failed = false;
  });
});
