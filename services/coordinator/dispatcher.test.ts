import { create } from '@bufbuild/protobuf';
import { DeviceKind, HardwareSchema, RequirementsSchema, TaskState, type AttemptKey } from '../../libs/gen/dtf/common/v1/common_pb';
import type { Command, SubmitJob } from '../../libs/gen/dtf/state/v1/command_pb';
import type { ConnectResponse } from '../../libs/gen/dtf/worker/v1/worker_service_pb';
import { LogError, type ReplicatedLog } from '../../libs/log/replicated-log';
import { AsyncQueue } from '../../libs/rpc/async-queue';
import { CoordinatorState, type ApplyResult } from '../../libs/state/coordinator-state';
import { assign, cancelTasks, command, submitJob, workerLost } from '../../libs/state/test-commands';
import { Dispatcher } from './dispatcher';
import { WorkerHub, defaultLiveness } from './worker-hub';
import type { WorkerSession } from './worker-session';

/**
 * A log that applies at once, except AssignAttempts (and, with `holdSubmits`,
 * SubmitJob) entries while `hold` is set: those wait, in order, until
 * `release` (or fail with `failHeld`), so a test can act between a push and
 * its commit. It keeps every command proposed.
 */
class GatedLog implements ReplicatedLog {
  hold = false;
  holdSubmits = false;
  readonly proposed: Command[] = [];
  private index = 0n;
  private held: { cmd: Command; resolve: (r: ApplyResult) => void; reject: (e: Error) => void }[] = [];

  constructor(private readonly state: CoordinatorState) {}

  propose(cmd: Command): Promise<ApplyResult> {
    this.proposed.push(cmd);
    if (this.hold && (cmd.kind.case === 'assignAttempts' || (this.holdSubmits && cmd.kind.case === 'submitJob'))) {
      return new Promise((resolve, reject) => this.held.push({ cmd, resolve, reject }));
    }
    return Promise.resolve(this.state.apply(++this.index, cmd));
  }

  release(): void {
    for (const h of this.held.splice(0)) h.resolve(this.state.apply(++this.index, h.cmd));
  }

  failHeld(): void {
    for (const h of this.held.splice(0)) h.reject(new LogError('disk full'));
  }

  appliedIndex(): bigint {
    return this.index;
  }

  async close(): Promise<void> {}
}

const turn = () => new Promise<void>((r) => setImmediate(r));

/**
 * A dispatcher over one worker w1 of `slots` slots (`prefetch` of them its
 * prefetch queue), with job j1 (task t1) queued unless `job` is false.
 */
async function setup({ job = true, slots = 1, prefetch = 0 } = {}) {
  const state = new CoordinatorState();
  const log = new GatedLog(state);
  const hub = new WorkerHub(state, log, Date.now, defaultLiveness);
  const errors: Error[] = [];
  const dispatcher = new Dispatcher(state, log, hub, (e) => errors.push(e));
  hub.onCapacity = () => dispatcher.kick();
  hub.pushedTo = (workerId, key) => dispatcher.pushedTo(workerId, key);
  const down = new AsyncQueue<ConnectResponse>();
  const sent: ConnectResponse['msg'][] = [];
  void (async () => {
    for await (const m of down) sent.push(m.msg);
  })();
  const hardware = create(HardwareSchema, { cpuCores: 2, memoryBytes: 1n << 30n, devices: [{ kind: DeviceKind.CPU }] });
  const session: WorkerSession = await hub.open({ workerId: 'w1', name: 'w1', hardware, labels: {}, slots, freeSlots: slots, prefetch, running: [], httpOnly: false }, down);
  if (job) await log.propose(command(BigInt(Date.now()), submitJob('j1', [{ id: 't1' }])));
  return { state, log, hub, dispatcher, session, sent, errors };
}

/** Runs a round whose AssignAttempts entry the log holds back, so the test acts between push and commit. */
async function roundHeld(log: GatedLog, dispatcher: Dispatcher): Promise<void> {
  log.hold = true;
  dispatcher.kick();
  await turn();
  await turn();
}

function sentOf<C extends ConnectResponse['msg']['case']>(sent: ConnectResponse['msg'][], c: C): Extract<ConnectResponse['msg'], { case: C }>['value'][] {
  return sent.filter((m) => m.case === c).map((m) => m.value) as never;
}

const t1: AttemptKey = { $typeName: 'dtf.common.v1.AttemptKey', taskId: 't1', attempt: 1 };

describe('Dispatcher', () => {
  it('pushes an assignment while its entry commits, and takes the worker\'s output for it as the worker\'s own', async () => {
    const { log, hub, dispatcher, session, sent, state } = await setup();
    await roundHeld(log, dispatcher);
    expect(sentOf(sent, 'assign').flatMap((a) => a.assignments.map((x) => x.key))).toEqual([t1]);
    expect(state.tasks.get('t1')!.task.state).toBe(TaskState.PENDING); // not committed yet
    expect(session.credits).toBe(0);
    expect(hub.acceptUpdate(session, t1)).toBe(true);
    expect(hub.acceptUpdate(session, { ...t1, attempt: 2 })).toBe(false);

    log.release();
    await turn();
    expect(state.tasks.get('t1')!.task.state).toBe(TaskState.RUNNING);
    expect(dispatcher.placed).toBe(1);
    expect(dispatcher.pushedTo('w1', t1)).toBe(false);
    expect(hub.acceptUpdate(session, t1)).toBe(true); // now through the state
    expect(sentOf(sent, 'cancel')).toEqual([]);
  });

  it('cancels a pushed assignment whose task the log will never run again; the worker keeps its credit spent until it reports', async () => {
    const { log, hub, dispatcher, session, sent, state } = await setup();
    await roundHeld(log, dispatcher);
    expect(sentOf(sent, 'assign')).toHaveLength(1);
    // The task is cancelled before the held AssignAttempts entry applies, so the log rejects the placement.
    await log.propose(command(BigInt(Date.now()), cancelTasks(['t1'])));
    log.release();
    await turn();
    expect(sentOf(sent, 'cancel').flatMap((c) => c.keys)).toEqual([t1]);
    expect(dispatcher.withdrawn).toBe(1);
    expect(dispatcher.placed).toBe(0);
    expect(state.tasks.get('t1')!.task.state).toBe(TaskState.CANCELLED);
    expect(state.queue.size).toBe(0);
    expect(session.credits).toBe(0);
    expect(hub.acceptUpdate(session, t1)).toBe(false);
  });

  it('does not cancel a refused push whose very attempt is current on that worker (an earlier proposal of it committed)', async () => {
    const { log, dispatcher, sent, state } = await setup();
    await roundHeld(log, dispatcher);
    // The same placement, proposed and committed by other means before the held one applies (as after a leadership flap).
    log.hold = false;
    await log.propose(command(BigInt(Date.now()), assign(['t1', 1, 'w1'])));
    log.release();
    await turn();
    expect(state.tasks.get('t1')!.task.state).toBe(TaskState.RUNNING);
    expect(dispatcher.withdrawn).toBe(1);
    expect(sentOf(sent, 'cancel')).toEqual([]);
  });

  it('queues a refused task that may run again, and leaves its push running: the same key may be pushed again', async () => {
    const { log, dispatcher, sent, state } = await setup();
    await roundHeld(log, dispatcher);
    // The worker is lost before the placement commits: the log rejects it, the task waits for another worker.
    await log.propose(command(BigInt(Date.now()), workerLost('w1')));
    log.release();
    await turn();
    expect(dispatcher.withdrawn).toBe(1);
    expect(sentOf(sent, 'cancel')).toEqual([]);
    expect(state.tasks.get('t1')!.task.state).toBe(TaskState.PENDING);
    expect(state.queue.size).toBe(1);
  });

  it('cancels nothing when the proposal fails (the entry may still commit), queues the task again and reports the failure', async () => {
    const { log, dispatcher, sent, state, errors } = await setup();
    await roundHeld(log, dispatcher);
    log.failHeld();
    await turn();
    expect(sentOf(sent, 'cancel')).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual(['disk full']);
    expect(state.queue.size).toBe(1);
    expect(dispatcher.withdrawn).toBe(0);
    expect(dispatcher.pushedTo('w1', t1)).toBe(false);
  });
});

/** The SubmitJob a client's request becomes: `tasks` one-task-per-id, no placements yet. */
function submission(jobId: string, ids: string[], idempotencyKey = ''): SubmitJob {
  const cmd = submitJob(jobId, ids.map((id) => ({ id })), idempotencyKey);
  if (cmd.case !== 'submitJob') throw new Error(cmd.case);
  return cmd.value;
}

function proposedSubmits(log: GatedLog): SubmitJob[] {
  return log.proposed.flatMap((c) => (c.kind.case === 'submitJob' ? [c.kind.value] : []));
}

const key = (taskId: string): AttemptKey => ({ $typeName: 'dtf.common.v1.AttemptKey', taskId, attempt: 1 });

describe('Dispatcher.submit', () => {
  it('places a job on idle workers in its own SubmitJob entry and pushes it before the entry commits', async () => {
    const { log, dispatcher, session, sent, state } = await setup({ job: false, slots: 2 });
    log.hold = true;
    log.holdSubmits = true;
    const res = dispatcher.submit(submission('j2', ['a', 'b', 'c']));
    await turn();
    expect(state.jobs.has('j2')).toBe(false); // not committed yet
    expect(sentOf(sent, 'assign').flatMap((a) => a.assignments.map((x) => x.key))).toEqual([key('a'), key('b')]);
    expect(proposedSubmits(log).map((v) => v.placements.map((p) => [p.key!.taskId, p.workerId]))).toEqual([[['a', 'w1'], ['b', 'w1']]]);
    expect(session.credits).toBe(0);
    expect(dispatcher.pushedTo('w1', key('a'))).toBe(true);

    log.release();
    await expect(res).resolves.toMatchObject({ kind: 'submitted', jobId: 'j2', duplicate: false });
    await turn();
    expect(['a', 'b', 'c'].map((id) => state.tasks.get(id)!.task.state)).toEqual([TaskState.RUNNING, TaskState.RUNNING, TaskState.PENDING]);
    expect(dispatcher.placed).toBe(2);
    expect(dispatcher.pushedTo('w1', key('a'))).toBe(false);
    expect(sentOf(sent, 'cancel')).toEqual([]);
  });

  it('places the submissions of one turn in one round, and proposes them in the order they came', async () => {
    const { log, dispatcher, sent } = await setup({ job: false, slots: 2 });
    await Promise.all([dispatcher.submit(submission('j2', ['a'])), dispatcher.submit(submission('j3', ['b'])), dispatcher.submit(submission('j4', ['c']))]);
    await turn();
    expect(proposedSubmits(log).map((v) => [v.job!.id, v.placements.map((p) => p.key!.taskId)])).toEqual([['j2', ['a']], ['j3', ['b']], ['j4', []]]);
    // One Assign message for both, and the third job left to a round (the worker has no room for it).
    expect(sentOf(sent, 'assign').map((a) => a.assignments.map((x) => x.key!.taskId))).toEqual([['a', 'b']]);
  });

  it('leaves a job to the rounds when other tasks are queued, so it passes no one', async () => {
    const { log, dispatcher, state } = await setup({ job: false, slots: 2 });
    // A task that waits in the queue: it needs a GPU that w1 lacks.
    const requirements = create(RequirementsSchema, { anyOf: [DeviceKind.CUDA] });
    await log.propose(command(BigInt(Date.now()), submitJob('j1', [{ id: 'gpu', spec: { requirements } }])));
    await turn();
    expect(state.queue.size).toBe(1);
    await dispatcher.submit(submission('j2', ['a']));
    expect(proposedSubmits(log).at(-1)!.placements).toEqual([]);
    dispatcher.kick(); // as the scheduler service does once a submission commits
    await turn();
    await turn();
    expect(state.tasks.get('a')!.task.state).toBe(TaskState.RUNNING); // placed by the round that followed
  });

  it('leaves a job with dependencies to the rounds, and the jobs after it in the same turn', async () => {
    const { log, dispatcher } = await setup({ job: false, slots: 2 });
    const chain = submitJob('j2', [{ id: 'first' }, { id: 'then', spec: { dependsOn: ['first'] } }]);
    if (chain.case !== 'submitJob') throw new Error(chain.case);
    await Promise.all([dispatcher.submit(submission('j1', ['a'])), dispatcher.submit(chain.value), dispatcher.submit(submission('j3', ['b']))]);
    expect(proposedSubmits(log).map((v) => [v.job!.id, v.placements.map((p) => p.key!.taskId)])).toEqual([['j1', ['a']], ['j2', []], ['j3', []]]);
  });

  it('cancels the pushes of a submission the log refuses (a duplicate)', async () => {
    const { log, dispatcher, sent, state } = await setup({ job: false, slots: 2 });
    await log.propose(command(BigInt(Date.now()), submitJob('j1', [{ id: 't1' }], 'key-1')));
    await roundHeld(log, dispatcher); // t1 pushed: the queue is empty again, one slot left
    log.hold = false;
    await expect(dispatcher.submit(submission('j2', ['a'], 'key-1'))).resolves.toMatchObject({ kind: 'submitted', jobId: 'j1', duplicate: true });
    await turn();
    expect(proposedSubmits(log).at(-1)!.placements.map((p) => p.key!.taskId)).toEqual(['a']);
    expect(sentOf(sent, 'cancel').flatMap((c) => c.keys)).toEqual([key('a')]);
    expect(dispatcher.withdrawn).toBe(1);
    expect(state.tasks.has('a')).toBe(false);
  });
});

describe('a worker with a prefetch queue', () => {
  const assigned = (sent: ConnectResponse['msg'][]) => sentOf(sent, 'assign').map((a) => a.assignments.map((x) => x.key!.taskId));
  const tasks = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `t${i + 1}` }));

  it('is sent more only once half its queue is free, so its assignments travel together', async () => {
    // One task run at a time and four prefetched: topped up at two free credits.
    const { log, hub, dispatcher, session, sent, state } = await setup({ job: false, slots: 5, prefetch: 4 });
    await log.propose(command(BigInt(Date.now()), submitJob('j1', tasks(9))));
    dispatcher.kick();
    await turn();
    expect(assigned(sent)).toEqual([['t1', 't2', 't3', 't4', 't5']]);
    expect(session.refillCredits).toBe(2);

    hub.grant(session, 1); // one result back: four still in hand
    await turn();
    expect(assigned(sent)).toHaveLength(1);
    expect(dispatcher.roomOf(state.workers.get('w1')!, Date.now()).slots).toBe(0);

    hub.grant(session, 1);
    await turn();
    expect(assigned(sent)).toEqual([['t1', 't2', 't3', 't4', 't5'], ['t6', 't7']]);
  });

  it('makes no difference to a worker without one: any free credit is used at once', async () => {
    const { log, hub, dispatcher, session, sent } = await setup({ job: false, slots: 5 });
    await log.propose(command(BigInt(Date.now()), submitJob('j1', tasks(7))));
    dispatcher.kick();
    await turn();
    hub.grant(session, 1);
    await turn();
    expect(assigned(sent)).toEqual([['t1', 't2', 't3', 't4', 't5'], ['t6']]);
  });

  it('must leave at least one slot to run in: a hello with prefetch ≥ slots is refused and joins nothing', async () => {
    const { hub, state } = await setup({ job: false });
    await expect(hub.open({ workerId: 'w2', name: 'w2', labels: {}, slots: 4, freeSlots: 4, prefetch: 4, running: [], httpOnly: false }, undefined))
      .rejects.toThrow('prefetch 4 must be less than slots 4');
    expect(state.workers.has('w2')).toBe(false);
  });
});
