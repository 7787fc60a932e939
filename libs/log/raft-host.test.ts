import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bootstrap } from '../raft/bootstrap';
import { FileStorage } from '../raft/file-storage';
import { MemoryStorage } from '../raft/memory-storage';
import type { Storage } from '../raft/storage';
import { CoordinatorState } from '../state/coordinator-state';
import { decodeStateSnapshot, encodeStateSnapshot, stateHash } from '../state/state-snapshot';
import { command, submitJob } from '../state/test-commands';
import { MemoryNetwork } from './memory-network';
import { NotLeaderError, RaftHost, type HostedStateMachine } from './raft-host';

class StateBox implements HostedStateMachine {
  state = new CoordinatorState();
  apply(index: bigint, cmd: Parameters<CoordinatorState['apply']>[1]) {
    return this.state.apply(index, cmd);
  }
  snapshot() {
    return encodeStateSnapshot(this.state);
  }
  restore(data: Uint8Array) {
    this.state = CoordinatorState.fromSnapshot(decodeStateSnapshot(data));
  }
}

interface Member {
  id: number;
  host: RaftHost;
  box: StateBox;
}

const timers = { tickMs: 10, electionTicks: 10, heartbeatTicks: 1 };

function cluster(n: number, net: MemoryNetwork, snapshotEntries = 1000, keep = 10): Member[] {
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  return ids.map((id) => {
    const storage = new MemoryStorage();
    bootstrap(storage, ids);
    return member(id, storage, net, snapshotEntries, keep);
  });
}

function member(id: number, storage: Storage, net: MemoryNetwork, snapshotEntries = 1000, keep = 10): Member {
  const box = new StateBox();
  const ref: { host?: RaftHost } = {};
  const transport = net.join(id, (m) => ref.host?.step(m));
  const host = (ref.host = new RaftHost({ id, storage, transport, stateMachine: box, ...timers, snapshotEntries, compactionKeepEntries: keep, seed: id }));
  host.start();
  return { id, host, box };
}

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function leaderOf(ms: Member[]): Promise<Member> {
  await until('a leader', () => ms.filter((m) => m.host.isLeader).length === 1);
  return ms.find((m) => m.host.isLeader)!;
}

const submit = (i: number) => command(BigInt(i), submitJob(`j${i}`, [{ id: `j${i}.1` }]));

describe('RaftHost', () => {
  let all: Member[] = [];
  afterEach(async () => {
    await Promise.all(all.map((m) => m.host.close()));
    all = [];
  });

  it('is a cluster of one that answers each proposal with what applying it did', async () => {
    all = cluster(1, new MemoryNetwork());
    const [m] = all;
    await until('leadership', () => m.host.isLeader);
    const res = await Promise.all([1, 2, 3].map((i) => m.host.propose(submit(i))));
    expect(res.map((r) => r.kind)).toEqual(['submitted', 'submitted', 'submitted']);
    expect(m.box.state.jobs.size).toBe(3);
    await m.host.readBarrier(1000);
  });

  it('replicates to three members; a follower refuses proposals naming the leader', async () => {
    const net = new MemoryNetwork();
    all = cluster(3, net);
    const leader = await leaderOf(all);
    await Promise.all(Array.from({ length: 50 }, (_, i) => leader.host.propose(submit(i + 1))));
    const follower = all.find((m) => m !== leader)!;
    await expect(follower.host.propose(submit(99))).rejects.toThrow(new RegExp(`leader is ${leader.id}`));
    await until('followers applied', () => all.every((m) => m.host.appliedIndex() === leader.host.appliedIndex()));
    const hashes = new Set(all.map((m) => stateHash(m.box.state)));
    expect(hashes.size).toBe(1);
    await follower.host.readBarrier(1000);
    expect(follower.box.state.jobs.size).toBe(50);
  });

  it('a leader cut off steps down, rejects its pending proposals and never serves a read', async () => {
    const net = new MemoryNetwork();
    all = cluster(3, net);
    const old = await leaderOf(all);
    await old.host.propose(submit(1));
    net.isolate(old.id, true);
    const lost = old.host.propose(submit(2));
    const read = old.host.readBarrier(500);
    await expect(lost).rejects.toBeInstanceOf(NotLeaderError);
    await expect(read).rejects.toThrow(/no leader confirmed a read index/);
    const rest = all.filter((m) => m !== old);
    await until('a new leader', () => rest.some((m) => m.host.isLeader));
    const leader = rest.find((m) => m.host.isLeader)!;
    await leader.host.propose(submit(3));
    net.isolate(old.id, false);
    await until('the old leader caught up', () => old.host.appliedIndex() === leader.host.appliedIndex());
    expect(new Set(all.map((m) => stateHash(m.box.state))).size).toBe(1);
    expect(old.box.state.jobs.has('j2')).toBe(false);
  });

  it('a follower left behind past compaction catches up by snapshot', async () => {
    const net = new MemoryNetwork();
    all = cluster(3, net, 20, 5);
    const leader = await leaderOf(all);
    const lagging = all.find((m) => m !== leader)!;
    net.isolate(lagging.id, true);
    for (let i = 1; i <= 60; i++) await leader.host.propose(submit(i));
    expect(leader.host.counters.snapshotsTaken).toBeGreaterThan(0);
    net.isolate(lagging.id, false);
    await until('the follower caught up', () => lagging.host.appliedIndex() === leader.host.appliedIndex());
    expect(lagging.host.counters.snapshotsInstalled).toBe(1);
    expect(stateHash(lagging.box.state)).toBe(stateHash(leader.box.state));
  });

  it('restarts from its files with the state it had', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raft-host-'));
    try {
      const net = new MemoryNetwork();
      const s1 = FileStorage.open(dir);
      bootstrap(s1, [1]);
      const a = member(1, s1, net, 15, 3);
      await until('leadership', () => a.host.isLeader);
      for (let i = 1; i <= 40; i++) await a.host.propose(submit(i));
      const hash = stateHash(a.box.state);
      await a.host.close();
      s1.close();
      const s2 = FileStorage.open(dir);
      const b = member(1, s2, net, 15, 3);
      all = [b];
      expect(stateHash(b.box.state)).toBe(hash);
      await until('leadership', () => b.host.isLeader);
      expect((await b.host.propose(submit(41))).kind).toBe('submitted');
      await b.host.close();
      all = [];
      s2.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
