/**
 * The transcript tests' host: nodes on MemoryStorage, a network that holds
 * messages until a `deliver-msgs`, and commands that print what happened.
 */
import { bootstrap } from '../../libs/raft/bootstrap';
import { describeEntry, describeMessage } from '../../libs/raft/describe';
import { MemoryStorage } from '../../libs/raft/memory-storage';
import { persistReady } from '../../libs/raft/persist-ready';
import { RaftNode, type Ready } from '../../libs/raft/raft-node';
import type { Rng } from '../../libs/raft/rng';
import { ConfChangeType, type Message } from '../../libs/raft/types';
import type { RaftConfig } from '../../libs/raft/config';

/** Election timeouts are exactly electionTicks, so transcripts need no seed. */
const zeroRng: Rng = { nextInt: () => 0 };

interface EnvNode {
  node: RaftNode;
  storage: MemoryStorage;
  applied: string[];
  options: Partial<RaftConfig>;
}

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

/** Parses "a b k=v" into positional args and options. */
function parseArgs(words: string[]): { pos: string[]; opts: Record<string, string> } {
  const pos: string[] = [];
  const opts: Record<string, string> = {};
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq > 0) opts[w.slice(0, eq)] = w.slice(eq + 1);
    else pos.push(w);
  }
  return { pos, opts };
}

/** Holds the nodes and the undelivered messages of one transcript. */
export class InteractionEnv {
  private nodes = new Map<number, EnvNode>();
  private inflight: Message[] = [];
  private cut = new Set<string>();

  run(command: string): string {
    const [cmd, ...rest] = command.trim().split(/\s+/);
    const { pos, opts } = parseArgs(rest);
    const ids = pos.map(Number);
    const out: string[] = [];
    switch (cmd) {
      case 'add-nodes':
        this.addNodes(Number(pos[0]), opts);
        break;
      case 'add-node':
        this.addNode(ids[0], [], opts);
        break;
      case 'campaign':
        this.get(ids[0]).node.campaign();
        break;
      case 'tick':
        for (let i = 0; i < (ids[1] ?? 1); i++) this.get(ids[0]).node.tick();
        break;
      case 'tick-election':
        for (let i = 0; i < this.get(ids[0]).node.cfg.electionTicks; i++) this.get(ids[0]).node.tick();
        break;
      case 'tick-heartbeat':
        for (let i = 0; i < this.get(ids[0]).node.cfg.heartbeatTicks; i++) this.get(ids[0]).node.tick();
        break;
      case 'propose':
        out.push(this.result(this.get(ids[0]).node.propose(bytes(pos[1]))));
        break;
      case 'propose-conf-change': {
        const type = pos[1] === 'add' ? ConfChangeType.ADD_VOTER : ConfChangeType.REMOVE_VOTER;
        out.push(this.result(this.get(ids[0]).node.proposeConfChange({ type, nodeId: Number(pos[2]) })));
        break;
      }
      case 'transfer-leadership':
        this.get(ids[0]).node.transferLeadership(ids[1]);
        break;
      case 'read-index':
        this.get(ids[0]).node.readIndex(bytes(pos[1]));
        break;
      case 'process-ready':
        for (const id of ids.length ? ids : this.allIds()) out.push(...this.processReady(id));
        break;
      case 'deliver-msgs':
        out.push(...this.deliver(ids.length ? ids : this.allIds(), opts.drop === 'true'));
        break;
      case 'stabilize':
        out.push(...this.stabilize(ids.length ? ids : this.allIds()));
        break;
      case 'cut':
        this.cut.add(`${ids[0]}-${ids[1]}`).add(`${ids[1]}-${ids[0]}`);
        break;
      case 'heal':
        this.cut.clear();
        break;
      case 'compact':
        out.push(this.compact(ids[0]));
        break;
      case 'status':
        out.push(...this.statusLines(ids.length ? ids : this.allIds()));
        break;
      case 'raft-log':
        out.push(...this.logLines(ids[0]));
        break;
      default:
        throw new Error(`unknown transcript command "${cmd}"`);
    }
    return out.join('\n');
  }

  private allIds(): number[] {
    return [...this.nodes.keys()].sort((a, b) => a - b);
  }

  private get(id: number): EnvNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`transcript: no node ${id}`);
    return n;
  }

  private addNodes(count: number, opts: Record<string, string>): void {
    const voters = Array.from({ length: count }, (_, i) => this.nodes.size + i + 1);
    for (const id of voters) this.addNode(id, voters, opts);
  }

  private addNode(id: number, voters: number[], opts: Record<string, string>): void {
    const storage = new MemoryStorage();
    if (voters.length > 0) bootstrap(storage, voters);
    const options: Partial<RaftConfig> = {};
    if (opts.prevote) options.preVote = opts.prevote === 'true';
    if (opts.checkquorum) options.checkQuorum = opts.checkquorum === 'true';
    if (opts.chunk) options.snapshotChunkBytesMax = Number(opts.chunk);
    if (opts.inflight) options.inflightMessagesMax = Number(opts.inflight);
    if (opts.msgbytes) options.entriesPerMessageBytesMax = Number(opts.msgbytes);
    if (opts.readonly) options.readOnly = opts.readonly as 'safe' | 'lease';
    const node = new RaftNode({ id, storage, rng: zeroRng, electionTicks: 10, heartbeatTicks: 1, ...options });
    this.nodes.set(id, { node, storage, applied: [], options });
  }

  private result(r: ReturnType<RaftNode['propose']>): string {
    return r.ok ? `proposed at ${r.term}/${r.index}` : `refused: ${r.reason} (lead ${r.lead})`;
  }

  /** Persists, queues messages, applies; prints the Ready. */
  processReady(id: number): string[] {
    const n = this.get(id);
    if (!n.node.hasReady()) return [];
    const rd = n.node.ready();
    persistReady(n.storage, rd);
    // A cut link loses what is sent over it.
    this.inflight.push(...rd.messages.filter((m) => !this.cut.has(`${m.from}-${m.to}`)));
    for (const e of rd.committedEntries) n.applied.push(describeEntry(e));
    n.node.advance(rd);
    return [`> ${id} handling Ready`, ...describeReady(rd).map((l) => '  ' + l)];
  }

  private deliver(ids: number[], drop: boolean): string[] {
    const out: string[] = [];
    for (const id of ids) {
      const mine = this.inflight.filter((m) => m.to === id);
      if (mine.length === 0) continue;
      this.inflight = this.inflight.filter((m) => m.to !== id);
      out.push(`> ${id} ${drop ? 'dropping' : 'receiving'} messages`);
      for (const m of mine) {
        const blocked = this.cut.has(`${m.from}-${m.to}`) || !this.nodes.has(m.to);
        out.push(`  ${describeMessage(m)}${blocked ? ' (cut)' : ''}`);
        if (!drop && !blocked) this.get(id).node.step(m);
      }
    }
    return out;
  }

  private stabilize(ids: number[]): string[] {
    const out: string[] = [];
    for (let round = 0; round < 1000; round++) {
      const before = out.length;
      for (const id of ids) out.push(...this.processReady(id));
      out.push(...this.deliver(ids, false));
      if (out.length === before) return out;
    }
    throw new Error('transcript: stabilize did not settle in 1000 rounds');
  }

  private compact(id: number): string {
    const n = this.get(id);
    const applied = n.node.status().applied;
    const data = bytes(n.applied.join(';'));
    n.storage.createSnapshot(applied, { voters: n.node.status().voters }, data);
    n.storage.compact(applied);
    return `snapshot at ${applied}, log from ${n.storage.firstIndex()}`;
  }

  private statusLines(ids: number[]): string[] {
    return ids.map((id) => {
      const s = this.get(id).node.status();
      return `${id}: ${s.role} term=${s.term} lead=${s.lead} vote=${s.vote} commit=${s.commit} applied=${s.applied} last=${s.lastIndex} voters=[${s.voters.join(',')}]`;
    });
  }

  private logLines(id: number): string[] {
    const n = this.get(id);
    const first = n.storage.firstIndex();
    const last = n.storage.lastIndex();
    if (last < first) return [`log empty (snapshot at ${first - 1})`];
    return n.storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER).map(describeEntry);
  }
}

function describeReady(rd: Ready): string[] {
  const out: string[] = [];
  if (rd.softState) out.push(`Lead:${rd.softState.lead} State:${rd.softState.role}`);
  if (rd.hardState) out.push(`HardState Term:${rd.hardState.term} Vote:${rd.hardState.vote} Commit:${rd.hardState.commit}`);
  if (rd.entries.length > 0) out.push('Entries:', ...rd.entries.map((e) => '  ' + describeEntry(e)));
  if (rd.snapshot) out.push(`Snapshot: ${rd.snapshot.metadata.term}/${rd.snapshot.metadata.index} bytes=${rd.snapshot.data.length}`);
  if (rd.committedEntries.length > 0) out.push('CommittedEntries:', ...rd.committedEntries.map((e) => '  ' + describeEntry(e)));
  if (rd.messages.length > 0) out.push('Messages:', ...rd.messages.map((m) => '  ' + describeMessage(m)));
  for (const rs of rd.readStates) out.push(`ReadState Index:${rs.index} Context:${Buffer.from(rs.context).toString()}`);
  return out;
}
