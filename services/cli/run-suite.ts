import { toJson } from '@bufbuild/protobuf';
import { ConnectError } from '@connectrpc/connect';
import { writeFileSync } from 'node:fs';
import { JobState, TaskSchema, TaskState, type Job, type Task } from '../../libs/gen/dtf/common/v1/common_pb';
import { loadSuite } from '../../libs/suite/load-suite';
import { suiteToSubmitRequest } from '../../libs/suite/parse-suite';
import type { Clients } from './clients';
import { junitReport } from './junit-report';
import { ProgressView } from './progress-view';
import { renderResultsTable } from './results-table';

/** Exit codes of `dtf run`. */
export const exitCode = { passed: 0, testsFailed: 1, usageOrInfra: 2 } as const;
/** Times the watch stream is re-opened after a failure before giving up. */
export const watchRetriesMax = 30;

export interface RunSuiteOptions {
  json?: boolean;
  junit?: string;
  idempotencyKey?: string;
  /** Overrides the suite's `tenant:`. */
  tenant?: string;
  out?: NodeJS.WriteStream;
}

/** Submits a suite file, shows progress, prints results; returns the exit code. */
export async function runSuite(clients: Clients, file: string, opts: RunSuiteOptions = {}): Promise<number> {
  const out = opts.out ?? process.stdout;
  // Relative deadlines count from now, the moment of submission.
  const doc = await loadSuite(file, { nowMs: Date.now() });
  const submitted = await clients.scheduler.submitJob(suiteToSubmitRequest(doc, { idempotencyKey: opts.idempotencyKey, tenant: opts.tenant }));
  const jobId = submitted.job!.id;
  if (!opts.json) out.write(`submitted ${jobId} (${doc.tasks.length} tasks) to ${clients.describe}\n`);
  const job = await follow(clients, jobId, opts.json ? undefined : new ProgressView(out));
  const { tasks } = await clients.results.listJobResults({ jobId });
  if (opts.junit) writeFileSync(opts.junit, junitReport(job, tasks));
  if (opts.json) {
    out.write(JSON.stringify({ job: jobId, state: JobState[job.state].toLowerCase(), tasks: tasks.map((t) => toJson(TaskSchema, t)) }, null, 2) + '\n');
  } else {
    out.write('\n' + renderResultsTable(tasks) + '\n');
  }
  return exitFor(tasks);
}

/** 0 when every task succeeded, 1 when some failed their tests, 2 for infrastructure trouble. */
export function exitFor(tasks: Task[]): number {
  if (tasks.some((t) => t.state === TaskState.ERRORED || t.state === TaskState.CANCELLED)) return exitCode.usageOrInfra;
  if (tasks.some((t) => t.state === TaskState.FAILED)) return exitCode.testsFailed;
  return exitCode.passed;
}

/** Watches a job to its end, re-opening the stream if the coordinator restarts. */
async function follow(clients: Clients, jobId: string, view: ProgressView | undefined): Promise<Job> {
  let failures = 0;
  let warned = 0;
  for (;;) {
    try {
      let last: Job | undefined;
      for await (const msg of clients.scheduler.watchJob({ jobId })) {
        last = msg.job!;
        failures = 0;
        // Deadline trouble is told as soon as the coordinator knows it, not at the end.
        for (const w of last.warnings.slice(warned)) process.stderr.write(`warning: ${w}\n`);
        warned = Math.max(warned, last.warnings.length);
        view?.update(last, msg.tasks);
      }
      if (last && isDone(last)) {
        view?.finish(last);
        return last;
      }
    } catch (e) {
      if (++failures > watchRetriesMax) throw e;
      if (!(e instanceof ConnectError)) throw e;
    }
    await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** failures)));
  }
}

function isDone(job: Job): boolean {
  return job.state === JobState.SUCCEEDED || job.state === JobState.FAILED || job.state === JobState.CANCELLED;
}
