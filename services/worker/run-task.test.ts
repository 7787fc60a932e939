import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import {
  AttemptKeySchema,
  AttemptOutcome,
  TaskSpecSchema,
  TestCaseStatus,
} from '../../libs/gen/dtf/common/v1/common_pb';
import { runTask, type OutputChunk, type RunTaskOptions } from './run-task';

let workRoot: string;
beforeEach(async () => {
  workRoot = await mkdtemp(path.join(os.tmpdir(), 'dtf-run-'));
});
afterEach(async () => {
  await rm(workRoot, { recursive: true, force: true });
});

const key = create(AttemptKeySchema, { taskId: 'task-1', attempt: 2 });
const spec = (init: MessageInitShape<typeof TaskSpecSchema>) => create(TaskSpecSchema, { name: 'test', ...init });
const options = (more: Partial<RunTaskOptions> = {}): RunTaskOptions => ({ key, workRoot, defaultTimeoutMs: 20_000, ...more });

/** Gone means no /proc entry, or a zombie nobody has reaped yet (PID 1 in a container may not reap). */
function isGone(pid: number): boolean {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2, text.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

describe('runTask', () => {
  it('runs argv directly and reports success, output and the injected clock', async () => {
    const chunks: OutputChunk[] = [];
    let t = 1000;
    const running = runTask(spec({ argv: ['/bin/echo', 'hello', 'world'] }), options({ onOutput: (c) => chunks.push(c), now: () => (t += 10), workerId: 'w1' }));
    const r = await running.result;
    expect(r.outcome).toBe(AttemptOutcome.SUCCEEDED);
    expect(r.exitCode).toBe(0);
    expect(r.signal).toBe('');
    expect(r.error).toBe('');
    expect(r.stdoutTail).toBe('hello world\n');
    expect(r.key).toEqual(key);
    expect(r.workerId).toBe('w1');
    expect(r.startedAtMs).toBeGreaterThan(1000n);
    expect(r.finishedAtMs).toBeGreaterThan(r.startedAtMs);
    expect(Buffer.concat(chunks.map((c) => c.data)).toString()).toBe('hello world\n');
    expect(chunks[0]).toMatchObject({ stream: 'stdout', offset: 0 });
  });

  it('runs a shell line in a fresh attempt directory with DTF variables and the spec env', async () => {
    const r = await runTask(
      spec({ shell: 'echo "$FOO|$DTF_TASK_ID|$DTF_ATTEMPT|$DTF_OUTPUT_DIR"; pwd; echo oops >&2; exit 3', env: { FOO: 'bar', DTF_TASK_ID: 'spoofed' } }),
      options(),
    ).result;
    const attemptDir = path.join(workRoot, 'task-1', '2');
    expect(r.outcome).toBe(AttemptOutcome.FAILED);
    expect(r.exitCode).toBe(3);
    expect(r.stdoutTail).toBe(`bar|task-1|2|${attemptDir}/output\n${attemptDir}\n`);
    expect(r.stderrTail).toBe('oops\n');
    expect((await stat(path.join(attemptDir, 'output'))).isDirectory()).toBe(true);
  });

  it('creates a relative working_dir inside the attempt directory and uses an absolute one as is', async () => {
    const rel = await runTask(spec({ shell: 'pwd', workingDir: 'src/sub' }), options()).result;
    expect(rel.stdoutTail).toBe(`${path.join(workRoot, 'task-1', '2', 'src', 'sub')}\n`);
    const abs = await runTask(spec({ shell: 'pwd; echo "$DTF_OUTPUT_DIR"', workingDir: os.tmpdir() }), options()).result;
    expect(abs.stdoutTail).toBe(`${os.tmpdir()}\n${path.join(workRoot, 'task-1', '2', 'output')}\n`);
  });

  it('reports START_FAILED saying what and where', async () => {
    const missing = await runTask(spec({ argv: ['dtf-no-such-program', 'x'] }), options()).result;
    expect(missing.outcome).toBe(AttemptOutcome.START_FAILED);
    expect(missing.error).toContain('cannot start "dtf-no-such-program" in ');
    expect(missing.error).toContain('ENOENT');
    const badCwd = await runTask(spec({ shell: 'true', workingDir: '/nonexistent/dtf-dir' }), options()).result;
    expect(badCwd.outcome).toBe(AttemptOutcome.START_FAILED);
    expect(badCwd.error).toContain('working directory "/nonexistent/dtf-dir" does not exist');
    const both = await runTask(spec({ argv: ['true'], shell: 'true' }), options()).result;
    expect(both.outcome).toBe(AttemptOutcome.START_FAILED);
    expect(both.error).toContain('must set exactly one of argv and shell; it sets both');
  });

  it('reports a process killed by a signal', async () => {
    const r = await runTask(spec({ shell: 'kill -KILL $$' }), options()).result;
    expect(r.outcome).toBe(AttemptOutcome.FAILED);
    expect(r.signal).toBe('SIGKILL');
    expect(r.exitCode).toBe(137);
  });

  it('on timeout kills the whole group, grandchildren included', async () => {
    const r = await runTask(spec({ shell: 'sleep 1000 & echo $!; sleep 1000 & wait', timeoutMs: 300 }), options({ killGraceMs: 2000 })).result;
    expect(r.outcome).toBe(AttemptOutcome.TIMED_OUT);
    expect(r.signal).toBe('SIGTERM');
    expect(r.error).toContain('timed out after 300 ms');
    const grandchild = Number(r.stdoutTail.trim());
    expect(grandchild).toBeGreaterThan(0);
    expect(isGone(grandchild)).toBe(true);
  });

  it('sends SIGKILL after the grace when the group ignores SIGTERM', async () => {
    const started = Date.now();
    const r = await runTask(spec({ shell: "trap '' TERM; sleep 1000 & echo $!; wait" }), options({ defaultTimeoutMs: 200, killGraceMs: 200 })).result;
    expect(r.outcome).toBe(AttemptOutcome.TIMED_OUT);
    expect(r.signal).toBe('SIGKILL');
    expect(r.error).toContain('then SIGKILL');
    expect(isGone(Number(r.stdoutTail.trim()))).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('cancel() stops a running task with outcome CANCELLED', async () => {
    let cancel: (graceMs: number) => void = () => undefined;
    const running = runTask(spec({ shell: 'echo up; exec sleep 1000' }), options({ onOutput: () => cancel(1000) }));
    cancel = running.cancel;
    const r = await running.result;
    expect(r.outcome).toBe(AttemptOutcome.CANCELLED);
    expect(r.signal).toBe('SIGTERM');
    running.cancel(0); // after the end: a no-op
  });

  it('cancel() before the spawn means it never starts', async () => {
    const running = runTask(spec({ shell: 'echo ran > "$DTF_OUTPUT_DIR/ran"' }), options());
    running.cancel(0);
    const r = await running.result;
    expect(r.outcome).toBe(AttemptOutcome.CANCELLED);
    expect(existsSync(path.join(workRoot, 'task-1', '2', 'output', 'ran'))).toBe(false);
  });

  it('kills what a task left running in the background when it exits', async () => {
    const started = Date.now();
    const r = await runTask(spec({ shell: 'sleep 1000 & echo $!' }), options()).result;
    expect(r.outcome).toBe(AttemptOutcome.SUCCEEDED);
    expect(isGone(Number(r.stdoutTail.trim()))).toBe(true);
    // The background sleep held stdout open; killing it is what let the result come back promptly.
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('streams large output in bounded chunks and keeps a bounded tail', async () => {
    const chunks: OutputChunk[] = [];
    const r = await runTask(spec({ shell: "head -c 200000 /dev/zero | tr '\\0' a; printf end" }), options({ onOutput: (c) => chunks.push(c), tailBytesMax: 1000 })).result;
    expect(r.outcome).toBe(AttemptOutcome.SUCCEEDED);
    let offset = 0;
    for (const c of chunks) {
      expect(c.offset).toBe(offset);
      expect(c.data.length).toBeLessThanOrEqual(64 * 1024);
      offset += c.data.length;
    }
    expect(offset).toBe(200003);
    expect(r.stdoutTail).toHaveLength(1000);
    expect(r.stdoutTail.endsWith('aaaend')).toBe(true);
  });

  it('samples CPU and memory while it runs', async () => {
    const samples: Array<[number, number]> = [];
    const r = await runTask(spec({ shell: 'sleep 0.4' }), options({ sampleIntervalMs: 50, onSample: (c, m) => samples.push([c, m]) })).result;
    expect(samples.length).toBeGreaterThan(1);
    if (process.platform === 'linux') {
      expect(Math.max(...samples.map((s) => s[1]))).toBeGreaterThan(0);
      expect(r.usage?.memoryBytesMax).toBeGreaterThan(0n);
    }
  });
});

describe('runTask structured output', () => {
  const junit = (failing: boolean) =>
    `<testsuite name="s"><testcase name="a" time="0.5"/>${failing ? '<testcase name="b"><failure message="nope"/></testcase>' : ''}</testsuite>`;
  const writeFiles = (xml: string, metrics: string) =>
    `printf '%s' '${xml}' > "$DTF_OUTPUT_DIR/junit.xml"; printf '%s' '${metrics}' > "$DTF_OUTPUT_DIR/metrics.json"`;

  it('reads junit.xml and metrics.json', async () => {
    const r = await runTask(spec({ shell: writeFiles(junit(false), '{"latency_ms": 12.5}') }), options()).result;
    expect(r.outcome).toBe(AttemptOutcome.SUCCEEDED);
    expect(r.testCases.map((c) => [c.name, c.status, c.durationSeconds])).toEqual([['a', TestCaseStatus.PASSED, 0.5]]);
    expect(r.metrics.map((m) => [m.name, m.value])).toEqual([['latency_ms', 12.5]]);
  });

  it('fails an attempt that exited 0 when a test case failed', async () => {
    const r = await runTask(spec({ shell: writeFiles(junit(true), '{}') }), options()).result;
    expect(r.outcome).toBe(AttemptOutcome.FAILED);
    expect(r.exitCode).toBe(0);
    expect(r.testCases.map((c) => c.status)).toEqual([TestCaseStatus.PASSED, TestCaseStatus.FAILED]);
  });

  it('puts parse errors in error, naming the file, and keeps the outcome of the exit code', async () => {
    const r = await runTask(spec({ shell: writeFiles('<testsuite>', '{"x": "y"}') }), options()).result;
    expect(r.outcome).toBe(AttemptOutcome.SUCCEEDED);
    expect(r.error).toContain('$DTF_OUTPUT_DIR/junit.xml: malformed XML');
    expect(r.error).toContain('$DTF_OUTPUT_DIR/metrics.json: "x": expected a number');
  });
});
