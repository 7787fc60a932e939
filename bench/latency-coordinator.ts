/**
 * Child process: the latency scenario's coordinator, fresh for each trial
 * and alone in its process, as `dtf coordinator` runs in a deployment. In
 * the bench's own process it shared a heap with what the scenarios before it
 * left behind: after `throughput`, its p99 was 3–5× what a fresh process gave.
 *
 * It notes, per job name, when the job's task started (the worker's clock,
 * ms, as the result reports it) and when the committed result was applied
 * here (wall clock, ms). Says `ready` with its port; on {type: 'collect',
 * jobs, timeoutMs} waits until `lat-0`…`lat-<jobs-1>` have results (or the
 * time is up) and answers `times` with both lists, null for a job without
 * a result. Stops on SIGTERM; the bench removes the data directory.
 *
 * Usage (from the bench): latency-coordinator.ts <data dir>
 */
import pino from 'pino';
import { Coordinator } from '../services/coordinator/coordinator';
import { tellParent, type ChildMessage } from './child';

const wallMs = () => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const [dir] = process.argv.slice(2);
  if (!dir) throw new Error('usage: latency-coordinator.ts <data dir>');
  const c = await Coordinator.start({ dataDir: dir, listen: '127.0.0.1:0', logger: pino({ level: 'silent' }) });
  const seenAt = new Map<string, { startedMs: number; resultMs: number }>();
  let seen = c.state.events.last;
  const previous = c.state.events.onAppend;
  c.state.events.onAppend = () => {
    previous?.();
    const now = wallMs();
    for (const e of c.state.events.after(seen, Number.MAX_SAFE_INTEGER)) {
      seen = e.index;
      if (e.kind.case !== 'attemptFinished') continue;
      // By job name: a result can be applied before its submitter hears back.
      const name = c.state.jobs.get(e.kind.value.jobId)?.job.name;
      if (name !== undefined) seenAt.set(name, { startedMs: Number(e.kind.value.result!.startedAtMs), resultMs: now });
    }
  };
  process.once('SIGTERM', () => {
    void c.stop().finally(() => process.exit(0));
  });
  process.on('message', (m: ChildMessage) => {
    if (m.type !== 'collect') return;
    const jobs = Number(m.jobs);
    const deadline = Date.now() + Number(m.timeoutMs);
    void (async () => {
      while (seenAt.size < jobs && Date.now() < deadline) await c.changes.next(undefined, 500);
      const startedMs: (number | null)[] = [];
      const resultMs: (number | null)[] = [];
      for (let i = 0; i < jobs; i++) {
        const at = seenAt.get(`lat-${i}`);
        startedMs.push(at?.startedMs ?? null);
        resultMs.push(at?.resultMs ?? null);
      }
      tellParent({ type: 'times', startedMs, resultMs });
    })();
  });
  tellParent({ type: 'ready', port: c.port });
}

main().catch((e: Error) => {
  tellParent({ type: 'error', message: e.stack ?? e.message });
  process.exit(1);
});
