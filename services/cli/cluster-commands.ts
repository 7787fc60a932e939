import { toJson } from '@bufbuild/protobuf';
import { createClient, type Client } from '@connectrpc/connect';
import type { Command } from 'commander';
import { ClusterService, GetClusterStatusResponseSchema, type GetClusterStatusResponse } from '../../libs/gen/dtf/raft/v1/cluster_service_pb';
import { createGrpcTransport } from '../../libs/rpc/grpc-transport';
import { parseAddress } from '../coordinator/parse-peers';

export const defaultCoordinator = '127.0.0.1:7070';

interface ClusterCommon {
  coordinator?: string;
  json?: boolean;
}

async function withClient<T>(o: ClusterCommon, fn: (c: Client<typeof ClusterService>) => Promise<T>): Promise<T> {
  const address = parseAddress(o.coordinator ?? process.env.DTF_COORDINATOR ?? defaultCoordinator);
  const t = createGrpcTransport(address);
  try {
    return await fn(createClient(ClusterService, t));
  } finally {
    t.close();
  }
}

function memberId(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) throw new Error(`"${v}" is not a member id; ids are positive integers`);
  return n;
}

/** The status as a table: one line per member, lag from the leader's view. */
export function renderClusterStatus(s: GetClusterStatusResponse): string {
  const head = `term ${s.term}, leader ${s.leaderId ? `${s.leaderId} (${s.leaderAddress})` : 'none known'}; asked member ${s.id} (${s.role}): commit ${s.commitIndex}, applied ${s.appliedIndex}, last ${s.lastIndex}, snapshot ${s.snapshotIndex}`;
  const rows = [['MEMBER', 'ADDRESS', 'ROLE', 'MATCH', 'LAG', 'PROGRESS'], ...s.members.map((m) => [String(m.id), m.address, m.role || '?', String(m.matchIndex), String(m.lag), m.progress || '-'])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return [head, '', ...rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd())].join('\n');
}

/** `dtf cluster status|transfer|add|remove`: operating a coordinator cluster over ClusterService. */
export function clusterCommands(program: Command): void {
  const cluster = program.command('cluster').description('inspect and change a coordinator cluster (any member may be asked)');
  const common = (c: Command) => c
    .option('--coordinator <host:port>', `any member's gRPC address (default $DTF_COORDINATOR or ${defaultCoordinator})`)
    .option('--json', 'print JSON');

  common(cluster.command('status').description("members, roles, term, leader, commit and applied index, each follower's lag (asked of the leader when the member knows it)"))
    .action(async (o: ClusterCommon) => {
      let s = await withClient(o, (c) => c.getClusterStatus({}));
      // Lags are the leader's knowledge: ask it when the member asked is a follower.
      if (s.leaderAddress && s.leaderId !== s.id) {
        s = await withClient({ coordinator: s.leaderAddress }, (c) => c.getClusterStatus({})).catch(() => s);
      }
      console.log(o.json ? JSON.stringify(toJson(GetClusterStatusResponseSchema, s, { alwaysEmitImplicit: true }), null, 2) : renderClusterStatus(s));
    });

  common(cluster.command('transfer').description('hand leadership to another member (default: the most up-to-date one)'))
    .option('--to <id>', 'the member to hand leadership to', memberId)
    .action(async (o: ClusterCommon & { to?: number }) => {
      const res = await withClient(o, (c) => c.transferLeadership({ targetId: BigInt(o.to ?? 0) }));
      console.log(`member ${res.leaderId} leads`);
    });

  common(cluster.command('add <id> <address>').description('add a member: first start it with `dtf coordinator --id <id> --peers <every member and itself as id=host:port> --join`; it catches up from the leader (by snapshot once the log is compacted)'))
    .action(async (id: string, address: string, o: ClusterCommon) => {
      const res = await withClient(o, (c) => c.addMember({ id: BigInt(memberId(id)), address: parseAddress(address) }));
      console.log(`member ${id} added; members: ${res.members.map((m) => `${m.id}=${m.address}`).join(', ')}`);
    });

  common(cluster.command('remove <id>').description('remove a member (a leader removing itself hands over first); then stop its process'))
    .action(async (id: string, o: ClusterCommon) => {
      const res = await withClient(o, (c) => c.removeMember({ id: BigInt(memberId(id)) }));
      console.log(`member ${id} removed; members: ${res.members.map((m) => `${m.id}=${m.address}`).join(', ')}`);
    });
}
