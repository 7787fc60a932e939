/**
 * ClusterService: status, leadership transfer and membership changes of a
 * coordinator cluster. Changes are forwarded to the leader like any write.
 */
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import { ClusterService, MemberSchema, type GetClusterStatusResponse, type Member } from '../../libs/gen/dtf/raft/v1/cluster_service_pb';
import { addMember } from '../../libs/log/raft-host';
import { ConfChangeType } from '../../libs/raft/types';
import { createGrpcTransport } from '../../libs/rpc/grpc-transport';
import type { ClusterMember } from './cluster-member';
import type { Coordinator } from './coordinator';
import { forwardedHeader } from './route-to-leader';
import { parseAddress } from './parse-peers';
import { stateHash } from '../../libs/state/state-snapshot';

/** A transfer is given this long to show a new leader. */
export const transferWaitMs = 5000;

/** This member's view of the cluster; the leader adds each follower's progress. */
export function clusterStatus(c: Coordinator, m: ClusterMember): GetClusterStatusResponse {
  const st = m.host.status();
  const progress = new Map(st.progress.map((p) => [p.id, p]));
  const leader = m.leader();
  const ids = new Set([...st.voters, ...m.addresses.keys()]);
  const members: Member[] = [...ids].sort((a, b) => a - b).map((id) => {
    const p = progress.get(id);
    return create(MemberSchema, {
      id: BigInt(id),
      address: m.addresses.get(id) ?? '',
      role: id === leader.id ? 'leader' : st.voters.includes(id) ? (leader.id ? 'follower' : '') : 'not a voter',
      matchIndex: BigInt(p?.match ?? 0),
      lag: BigInt(p ? Math.max(0, st.lastIndex - p.match) : 0),
      progress: p?.state ?? '',
    });
  });
  return {
    $typeName: 'dtf.raft.v1.GetClusterStatusResponse',
    id: BigInt(m.id),
    role: st.role,
    term: BigInt(st.term),
    leaderId: BigInt(leader.id),
    leaderAddress: leader.address ?? '',
    commitIndex: BigInt(st.commit),
    appliedIndex: c.log.appliedIndex(),
    lastIndex: BigInt(st.lastIndex),
    snapshotIndex: BigInt(st.snapshotIndex),
    members,
    stateHash: stateHash(c.state),
    snapshotsInstalled: BigInt(m.host.counters.snapshotsInstalled),
  };
}

function checkId(id: bigint, what: string): number {
  if (id <= 0n || id > BigInt(Number.MAX_SAFE_INTEGER)) throw new ConnectError(`${what}: member id ${id} must be a positive integer`, Code.InvalidArgument);
  return Number(id);
}

/** Runs `local` on the leader, or forwards the call there once. */
async function onLeader<T>(m: ClusterMember, ctx: HandlerContext, name: 'transferLeadership' | 'addMember' | 'removeMember', req: object, local: () => Promise<T>): Promise<T> {
  if (m.leading) return local();
  const leader = m.leader();
  if (!leader.address || ctx.requestHeader.get(forwardedHeader)) {
    throw new ConnectError(`member ${m.id} is not the leader; leader is ${leader.address ? `member ${leader.id} at ${leader.address}` : 'not known yet'}`, Code.Unavailable);
  }
  const t = createGrpcTransport(leader.address);
  try {
    const client = createClient(ClusterService, t) as unknown as Record<string, (r: object, o: object) => Promise<T>>;
    return await client[name](req, { headers: { [forwardedHeader]: String(m.id) }, signal: ctx.signal });
  } finally {
    t.close();
  }
}

export function clusterService(c: Coordinator, m: ClusterMember): ServiceImpl<typeof ClusterService> {
  const members = () => clusterStatus(c, m).members;
  return {
    async getClusterStatus() {
      return clusterStatus(c, m);
    },
    async transferLeadership(req, ctx) {
      return onLeader(m, ctx, 'transferLeadership', req, async () => {
        const voters = m.host.status().voters;
        let target = req.targetId === 0n ? 0 : checkId(req.targetId, 'TransferLeadership');
        if (target === 0) {
          const others = m.host.status().progress.filter((p) => p.id !== m.id);
          if (others.length === 0) throw new ConnectError('there is no other member to hand leadership to', Code.FailedPrecondition);
          target = others.reduce((a, b) => (b.match > a.match ? b : a)).id;
        }
        if (!voters.includes(target)) throw new ConnectError(`member ${target} is not a voter of this cluster (voters: ${voters.join(', ')})`, Code.InvalidArgument);
        if (target === m.id) return { leaderId: BigInt(m.id) };
        m.host.transferLeadership(target);
        const deadline = Date.now() + transferWaitMs;
        while (m.host.leader !== target && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        if (m.host.leader !== target) throw new ConnectError(`member ${target} did not take over within ${transferWaitMs} ms; leader is ${m.host.leader || 'unknown'}`, Code.DeadlineExceeded);
        return { leaderId: BigInt(target) };
      });
    },
    async addMember(req, ctx) {
      const id = checkId(req.id, 'AddMember');
      try {
        parseAddress(req.address);
      } catch (e) {
        throw new ConnectError(`AddMember: ${(e as Error).message}`, Code.InvalidArgument);
      }
      return onLeader(m, ctx, 'addMember', req, async () => {
        if (m.host.status().voters.includes(id)) throw new ConnectError(`member ${id} is already a voter`, Code.AlreadyExists);
        await m.host.proposeConfChange(addMember(id, req.address)).catch((e: Error) => {
          throw new ConnectError(`adding member ${id} failed: ${e.message}`, Code.Unavailable);
        });
        return { members: members() };
      });
    },
    async removeMember(req, ctx) {
      const id = checkId(req.id, 'RemoveMember');
      return onLeader(m, ctx, 'removeMember', req, async () => {
        const voters = m.host.status().voters;
        if (!voters.includes(id)) throw new ConnectError(`member ${id} is not a voter (voters: ${voters.join(', ')})`, Code.NotFound);
        if (voters.length === 1) throw new ConnectError('cannot remove the last member', Code.FailedPrecondition);
        await m.host.proposeConfChange({ type: ConfChangeType.REMOVE_VOTER, nodeId: id }).catch((e: Error) => {
          throw new ConnectError(`removing member ${id} failed: ${e.message}`, Code.Unavailable);
        });
        return { members: members() };
      });
    },
  };
}
