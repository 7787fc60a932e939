/**
 * Committed proposals per second through an in-process 3-node Raft cluster on
 * FileStorage (real files, real fsync) in a temp directory. Messages are
 * handed over in memory; each node persists and syncs every Ready before its
 * messages are delivered, as a production host must.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bootstrap } from '../libs/raft/bootstrap';
import { FileStorage } from '../libs/raft/file-storage';
import { persistReady } from '../libs/raft/persist-ready';
import { RaftNode } from '../libs/raft/raft-node';
import { SeededRng } from '../libs/raft/rng';
import { EntryType, type Message } from '../libs/raft/types';

/** Proposals the client keeps outstanding: enough to fill batches. */
export const outstandingProposalsMax = 256;
export const proposalBytes = 128;
/** Measuring time per run. */
export const raftBenchDurationMs = (smoke: boolean): number => (smoke ? 500 : 5000);

interface BenchNode {
  node: RaftNode;
  storage: FileStorage;
}

/** Runs the benchmark; returns committed proposals per second. */
export async function benchRaftThroughput(opts: { smoke: boolean }): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raft-bench-'));
  const durationMs = raftBenchDurationMs(opts.smoke);
  const voters = [1, 2, 3];
  const nodes = new Map<number, BenchNode>();
  try {
    for (const id of voters) {
      const storage = FileStorage.open(path.join(dir, `n${id}`));
      bootstrap(storage, voters);
      nodes.set(id, { node: new RaftNode({ id, storage, rng: new SeededRng(id) }), storage });
    }
    const inbox: Message[] = [];
    const pump = (): number => {
      let applied = 0;
      for (let moved = true; moved; ) {
        moved = false;
        for (const { node, storage } of nodes.values()) {
          while (node.hasReady()) {
            const rd = node.ready();
            persistReady(storage, rd);
            inbox.push(...rd.messages);
            if (node.id === 1) applied += rd.committedEntries.filter((e) => e.data.length > 0).length;
            node.advance(rd);
            moved = true;
          }
        }
        while (inbox.length > 0) {
          const m = inbox.shift()!;
          nodes.get(m.to)?.node.step(m);
          moved = true;
        }
      }
      return applied;
    };
    const leader = nodes.get(1)!.node;
    leader.campaign();
    pump();
    if (leader.status().role !== 'leader') throw new Error('bench: node 1 did not become leader');
    const payload = new Uint8Array(proposalBytes);
    let committed = 0;
    let proposed = 0;
    const start = process.hrtime.bigint();
    const elapsedMs = (): number => Number(process.hrtime.bigint() - start) / 1e6;
    while (elapsedMs() < durationMs) {
      while (proposed - committed < outstandingProposalsMax && leader.propose(payload).ok) proposed++;
      committed += pump();
      await new Promise<void>((resolve) => setImmediate(resolve)); // Stay a good event-loop citizen.
    }
    return committed / (elapsedMs() / 1000);
  } finally {
    for (const { storage } of nodes.values()) storage.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The storage's ceiling: entries of the same size appended to one
 * FileStorage in batches of `outstandingProposalsMax`, fsync'ed after every
 * batch, for the same time. One disk writer, no consensus. Returns entries/s.
 */
export function benchStorageCeiling(opts: { smoke: boolean }): number {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raft-bench-disk-'));
  const durationMs = raftBenchDurationMs(opts.smoke);
  const storage = FileStorage.open(dir);
  try {
    const payload = new Uint8Array(proposalBytes);
    let index = 0;
    const start = process.hrtime.bigint();
    const elapsedMs = (): number => Number(process.hrtime.bigint() - start) / 1e6;
    while (elapsedMs() < durationMs) {
      const batch = Array.from({ length: outstandingProposalsMax }, () => ({ term: 1, index: ++index, type: EntryType.NORMAL, data: payload }));
      storage.append(batch);
      storage.sync();
    }
    return index / (elapsedMs() / 1000);
  } finally {
    storage.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchRaftThroughput({ smoke: process.argv.includes('--smoke') }).then((perSecond) => {
    console.log(`raft: ${Math.round(perSecond)} committed proposals/s (3 nodes, file storage, in-process)`);
  });
}
