/**
 * The host loop for one simulated node: it carries out each Ready the way a
 * production host must (persist and sync, then send, then apply, then
 * advance), on a SimDisk that a crash can interrupt between write and sync.
 */
import { RaftNode, type Ready } from '../../libs/raft/raft-node';
import { SeededRng } from '../../libs/raft/rng';
import type { Message } from '../../libs/raft/types';
import { KvStateMachine, type KvWrite } from './kv-state-machine';
import { SimDisk } from './sim-disk';

/** Entries kept behind a snapshot so slow followers can still catch up by log. */
const compactionLagEntries = 2;
/** Take a snapshot once this many applied entries sit in the log. */
const compactionThresholdEntries = 20;

/** What a host reports back to the cluster while handling a Ready. */
export interface HostEvents {
  send(m: Message): void;
  applied(nodeId: number, write: KvWrite | undefined, index: number, entry: Ready['committedEntries'][number]): void;
  readReady(nodeId: number, context: string, index: number): void;
  /** Asked between the writes and the sync of a Ready: crash here? */
  crashBeforeSync(): boolean;
}

/** One node's process: its core, disk and state machine; replaced on restart. */
export class SimHost {
  node: RaftNode;
  kv = new KvStateMachine();
  up = true;

  constructor(
    readonly id: number,
    public disk: SimDisk,
    private readonly seed: number,
    private readonly events: HostEvents,
  ) {
    this.node = this.boot();
  }

  private boot(): RaftNode {
    const snap = this.disk.snapshot();
    this.kv.restore(snap.data);
    return new RaftNode({
      id: this.id,
      storage: this.disk,
      rng: new SeededRng(this.seed),
      electionTicks: 10,
      heartbeatTicks: 3,
      snapshotChunkBytesMax: 64,
    });
  }

  /** Kills the process: unsynced writes are gone. */
  crash(): void {
    this.up = false;
    this.disk = this.disk.afterCrash();
  }

  restart(): void {
    this.up = true;
    this.kv = new KvStateMachine();
    this.node = this.boot();
  }

  /** Handles Readys until there are none; false if the node crashed meanwhile. */
  drain(): boolean {
    while (this.up && this.node.hasReady()) {
      const rd = this.node.ready();
      if (rd.snapshot) this.disk.applySnapshot(rd.snapshot);
      if (rd.entries.length > 0) this.disk.append(rd.entries);
      if (rd.hardState) this.disk.setHardState(rd.hardState);
      if (this.events.crashBeforeSync()) {
        this.crash();
        return false;
      }
      this.disk.sync();
      for (const m of rd.messages) this.events.send(m);
      if (rd.snapshot) this.kv.restore(rd.snapshot.data);
      for (const e of rd.committedEntries) this.events.applied(this.id, this.kv.apply(e), e.index, e);
      for (const rs of rd.readStates) this.events.readReady(this.id, Buffer.from(rs.context).toString(), rs.index);
      this.node.advance(rd);
      this.maybeCompact();
    }
    return this.up;
  }

  private maybeCompact(): void {
    const applied = this.node.log.applied;
    if (applied - this.disk.firstIndex() < compactionThresholdEntries) return;
    this.disk.createSnapshot(applied, { voters: this.node.status().voters }, this.kv.snapshot());
    this.disk.compact(applied - compactionLagEntries);
  }
}
