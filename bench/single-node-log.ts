/**
 * The single-coordinator log, two ways: FileLog (one file, group commit,
 * async fdatasync) against RaftHost as a cluster of one on FileStorage
 * (sync fsync per Ready). Proposals of a submit-sized command kept
 * `outstandingMax` deep for a fixed time; prints proposals/s of each.
 * The figure decides which log a lone coordinator uses (services/coordinator/README.md).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileLog } from '../libs/log/file-log';
import { MemoryNetwork } from '../libs/log/memory-network';
import { RaftHost } from '../libs/log/raft-host';
import type { ReplicatedLog } from '../libs/log/replicated-log';
import { bootstrap } from '../libs/raft/bootstrap';
import { FileStorage } from '../libs/raft/file-storage';
import { CoordinatorState } from '../libs/state/coordinator-state';
import { command, submitJob } from '../libs/state/test-commands';

export const outstandingMax = 256;

async function drive(log: ReplicatedLog, durationMs: number): Promise<number> {
  let done = 0;
  let next = 0;
  const end = Date.now() + durationMs;
  const start = Date.now();
  await new Promise<void>((resolve) => {
    let inFlight = 0;
    const pump = (): void => {
      while (inFlight < outstandingMax && Date.now() < end) {
        inFlight++;
        const i = ++next;
        void log.propose(command(BigInt(i), submitJob(`j${i}`, [{ id: `j${i}.1` }]))).then(() => {
          done++;
          inFlight--;
          if (Date.now() >= end && inFlight === 0) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  return done / ((Date.now() - start) / 1000);
}

/** Proposals/s through FileLog and through a one-member RaftHost. */
export async function benchSingleNodeLog(opts: { smoke: boolean }): Promise<{ fileLog: number; raft: number }> {
  const durationMs = opts.smoke ? 300 : 3000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'single-log-'));
  try {
    const s1 = new CoordinatorState();
    const fl = await FileLog.open(path.join(dir, 'file.log'), (i, c) => s1.apply(i, c));
    const fileLog = await drive(fl, durationMs);
    await fl.close();
    const storage = FileStorage.open(path.join(dir, 'raft'));
    bootstrap(storage, [1]);
    const s2 = new CoordinatorState();
    const host = new RaftHost({
      id: 1, storage, transport: new MemoryNetwork().join(1, () => {}), seed: 1,
      stateMachine: { apply: (i, c) => s2.apply(i, c), snapshot: () => new Uint8Array(0), restore: () => {} },
      tickMs: 100, electionTicks: 10, heartbeatTicks: 1, snapshotEntries: 1e9, compactionKeepEntries: 0,
    });
    host.start();
    const raft = await drive(host, durationMs);
    await host.close();
    storage.close();
    return { fileLog, raft };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  void benchSingleNodeLog({ smoke: process.argv.includes('--smoke') }).then((r) => {
    console.log(`single coordinator: FileLog ${Math.round(r.fileLog)}/s, Raft (cluster of one) ${Math.round(r.raft)}/s, ratio ${(r.raft / r.fileLog).toFixed(2)}`);
  });
}
