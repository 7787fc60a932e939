import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import pino from 'pino';
import { SchedulerService } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { ConnectRequestSchema, WorkerService, type ConnectRequest } from '../../libs/gen/dtf/worker/v1/worker_service_pb';
import { AsyncQueue } from '../../libs/rpc/async-queue';
import { createGrpcTransport } from '../../libs/rpc/grpc-transport';
import { forwardedHeader } from '../../services/coordinator/route-to-leader';
import { startEmbedded, type Embedded } from '../../services/cli/embedded';
import { eventually, runDtf } from '../support/dtf-process';

jest.setTimeout(120_000);

/** `dtf up --coordinators 3` in-process, driven through the CLI and the gateway. */
describe('a three-coordinator cluster through the CLI and the gateway', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtf-cluster-cli-'));
  let e: Embedded;

  beforeAll(async () => {
    e = await startEmbedded({ dataDir: dir, workers: 1, coordinators: 3, port: 0, tickMs: 20, logger: pino({ level: 'silent' }) });
  });

  afterAll(async () => {
    await e.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const leaderId = () => e.coordinators.find((c) => c.leading)?.cluster?.id;

  it('runs a suite through any member', async () => {
    const follower = e.coordinators.find((c) => !c.leading)!;
    const res = await runDtf(['run', 'examples/unit-tests/suite.yaml', '--coordinator', `127.0.0.1:${follower.port}`]);
    expect({ code: res.code, err: res.code === 0 ? '' : res.stderr + res.stdout }).toEqual({ code: 0, err: '' });
  });

  it('shows members, roles and lag with `dtf cluster status`, asked of a follower', async () => {
    await eventually('a leader', async () => leaderId());
    const follower = e.coordinators.find((c) => !c.leading)!;
    const res = await runDtf(['cluster', 'status', '--coordinator', `127.0.0.1:${follower.port}`, '--json']);
    expect(res.code).toBe(0);
    const st = JSON.parse(res.stdout);
    expect(Number(st.leaderId)).toBe(leaderId());
    expect(st.members.map((m: { role: string }) => m.role).sort()).toEqual(['follower', 'follower', 'leader']);
    expect(st.members.every((m: { progress: string }) => m.progress !== '')).toBe(true);
  });

  it('transfers leadership with `dtf cluster transfer --to`', async () => {
    const before = leaderId()!;
    const target = [1, 2, 3].find((id) => id !== before)!;
    const res = await runDtf(['cluster', 'transfer', '--to', String(target), '--coordinator', `127.0.0.1:${e.coordinators[0].port}`]);
    expect({ code: res.code, out: res.stdout.trim(), err: res.stderr }).toEqual({ code: 0, out: `member ${target} leads`, err: '' });
    await eventually('the new leader everywhere', async () => e.coordinators.every((c) => c.cluster!.leader().id === target));
  });

  it('answers bad cluster requests with what was wrong', async () => {
    const address = `127.0.0.1:${e.coordinators[1].port}`;
    const remove = await runDtf(['cluster', 'remove', '9', '--coordinator', address]);
    expect(remove.code).toBe(2);
    expect(remove.stderr).toMatch(/member 9 is not a voter \(voters: 1, 2, 3\)/);
    const add = await runDtf(['cluster', 'add', '4', 'nowhere', '--coordinator', address]);
    expect(add.stderr).toMatch(/"nowhere" is not host:port/);
  });

  it('forwards a write once, and sends a worker that knocks on a follower to the leader', async () => {
    await eventually('a leader', async () => leaderId());
    const follower = e.coordinators.find((c) => !c.leading)!;
    const leaderPort = e.coordinators.find((c) => c.leading)!.port;
    const t = createGrpcTransport(`127.0.0.1:${follower.port}`);
    try {
      const scheduler = createClient(SchedulerService, t);
      const twice = await scheduler.submitJob({ name: 'x', tasks: [{ shell: 'true' }] }, { headers: { [forwardedHeader]: '9' } }).then(
        () => 'accepted',
        (err: ConnectError) => `${Code[err.code]}: ${err.rawMessage}`,
      );
      expect(twice).toBe(`Unavailable: member ${follower.cluster!.id} is not the leader; leader is member ${leaderId()} at 127.0.0.1:${leaderPort}`);
      const out = new AsyncQueue<ConnectRequest>();
      out.push(create(ConnectRequestSchema, { msg: { case: 'hello', value: { workerId: 'knocker', slots: 1 } } }));
      const replies: string[] = [];
      for await (const r of createClient(WorkerService, t).connect(out)) replies.push(`${r.msg.case}:${r.msg.case === 'redirect' ? r.msg.value.address : ''}`);
      expect(replies).toEqual([`redirect:127.0.0.1:${leaderPort}`]);
    } finally {
      t.close();
    }
  });

  it('shows the cluster in /api/status and serves /api/raft/* to peers only', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const st: any = await (await fetch(`${e.gatewayUrl}/api/status`)).json();
    expect(st.cluster.members).toHaveLength(3);
    expect(st.role).toMatch(/leader|follower/);
    const post = (p: string, body: unknown) => fetch(`${e.gatewayUrl}${p}`, { method: 'POST', body: JSON.stringify(body) });
    const wrongMember = await post('/api/raft/request_vote', { message: { type: 'MESSAGE_TYPE_PRE_VOTE', from: '2', to: '3', term: '1' } });
    expect(wrongMember.status).toBe(400);
    expect(((await wrongMember.json()) as { error: { message: string } }).error.message).toMatch(/message for member 3 reached member 1/);
    const junk = await post('/api/raft/append_entries', { messages: 'nope' });
    expect(junk.status).toBe(400);
    expect(((await junk.json()) as { error: { message: string } }).error.message).toMatch(/not a valid dtf.raft.v1.AppendEntriesRequest/);
  });
});
