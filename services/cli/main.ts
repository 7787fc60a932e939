import { toJson, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ListTasksResponseSchema, GetStatusResponseSchema, SubmitJobResponseSchema, CancelJobResponseSchema } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { ListWorkersResponseSchema } from '../../libs/gen/dtf/registry/v1/registry_service_pb';
import { ListJobResultsResponseSchema } from '../../libs/gen/dtf/result/v1/result_service_pb';
import { TaskState } from '../../libs/gen/dtf/common/v1/common_pb';
import { tenantNameProblem } from '../../libs/scheduling/tenant-name';
import { loadSuite } from '../../libs/suite/load-suite';
import { suiteToSubmitRequest } from '../../libs/suite/parse-suite';
import { SuiteError } from '../../libs/suite/suite-error';
import { makeClients, defaultGateway, type Endpoint } from './clients';
import { clusterCommands } from './cluster-commands';
import { renderResultsTable } from './results-table';
import { runSuite, exitCode } from './run-suite';
import { renderWorkersTable, renderStatus } from './fleet-views';
import { runCollector, serveCommands, type CollectorCommandOptions } from './serve-commands';
import { schedulingCommands } from './scheduling-commands';
import { shedMessage } from './shed-message';

interface Common extends Endpoint {
  json?: boolean;
}

function endpointOptions(cmd: Command): Command {
  return cmd
    .option('--gateway <url>', `gateway URL (default $DTF_GATEWAY or ${defaultGateway})`)
    .option('--coordinator <host:port>', 'talk gRPC to this coordinator instead of a gateway ($DTF_COORDINATOR)')
    .option('--json', 'print JSON instead of tables');
}

function printJson<D extends DescMessage>(schema: D, msg: MessageShape<D>): void {
  console.log(JSON.stringify(toJson(schema, msg, { alwaysEmitImplicit: true }), null, 2));
}

export function intOption(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return n;
  };
}

/** Parses `--tenant`, refusing a name the scheduler would refuse. */
function tenantOption(v: string): string {
  const problem = tenantNameProblem(v);
  if (problem) throw new InvalidArgumentError(problem);
  return v;
}

/** Builds the `dtf` command line. */
export function buildProgram(): Command {
  const program = new Command('dtf')
    .description('DTF: run test suites and benchmarks across machines with different hardware, and keep every result in DuckDB.')
    .version('0.1.0')
    .showHelpAfterError();
  serveCommands(program);
  clusterCommands(program);

  endpointOptions(program.command('run <suite>').description('submit a suite file, show progress, print a results table; exit 0 all passed, 1 tests failed, 2 usage or infrastructure error'))
    .option('--junit <file>', 'also write the results as JUnit XML')
    .option('--idempotency-key <key>', 'resubmitting with the same key returns the first job')
    .option('--tenant <name>', "account the job to this tenant (overrides the suite's tenant:)", tenantOption)
    .action(async (suite: string, o: Common & { junit?: string; idempotencyKey?: string; tenant?: string }) => {
      const clients = makeClients(o);
      try {
        process.exitCode = await runSuite(clients, suite, { json: o.json, junit: o.junit, idempotencyKey: o.idempotencyKey, tenant: o.tenant });
      } finally {
        clients.close();
      }
    });

  endpointOptions(program.command('submit <suite>').description('submit a suite file and print the job id without waiting'))
    .option('--idempotency-key <key>', 'resubmitting with the same key returns the first job')
    .option('--tenant <name>', "account the job to this tenant (overrides the suite's tenant:)", tenantOption)
    .action(async (suite: string, o: Common & { idempotencyKey?: string; tenant?: string }) => {
      const doc = await loadSuite(suite, { nowMs: Date.now() });
      const c = makeClients(o);
      const res = await c.scheduler.submitJob(suiteToSubmitRequest(doc, { idempotencyKey: o.idempotencyKey, tenant: o.tenant }));
      if (o.json) printJson(SubmitJobResponseSchema, res);
      else console.log(`${res.job!.id}${res.duplicate ? ' (existing job for this idempotency key)' : ''}`);
      c.close();
    });

  endpointOptions(program.command('status').description('queue and fleet figures')).action(async (o: Common) => {
    const c = makeClients(o);
    const res = await c.scheduler.getStatus({});
    if (o.json) printJson(GetStatusResponseSchema, res);
    else console.log(renderStatus(res));
    c.close();
  });

  endpointOptions(program.command('workers').description('list workers with their hardware, load and quarantine state'))
    .option('--all', 'include lost workers')
    .action(async (o: Common & { all?: boolean }) => {
      const c = makeClients(o);
      const res = await c.registry.listWorkers({ includeGone: Boolean(o.all) });
      if (o.json) printJson(ListWorkersResponseSchema, res);
      else console.log(renderWorkersTable(res.workers));
      c.close();
    });

  endpointOptions(program.command('tasks').description('list tasks'))
    .option('--job <id>', 'only this job')
    .addOption(new Option('--state <state>', 'only tasks in this state').choices(['pending', 'running', 'succeeded', 'failed', 'cancelled', 'errored', 'skipped']))
    .option('--limit <n>', 'at most this many', intOption('--limit', 1, 1000), 100)
    .action(async (o: Common & { job?: string; state?: string; limit: number }) => {
      const c = makeClients(o);
      const state = o.state ? TaskState[o.state.toUpperCase() as keyof typeof TaskState] : TaskState.UNSPECIFIED;
      const res = await c.scheduler.listTasks({ jobId: o.job ?? '', state, pageSize: o.limit });
      if (o.json) printJson(ListTasksResponseSchema, res);
      else console.log(renderResultsTable(res.tasks));
      c.close();
    });

  endpointOptions(program.command('results [job]').description("with a job id: the job's results table; without: run the result collector, tailing --coordinator's events into DuckDB"))
    .option('--db <file>', 'collector: DuckDB file', './.dtf/results.duckdb')
    .option('--listen <host:port>', 'collector: gRPC address of its CollectorService', '127.0.0.1:7072')
    .action(async (job: string | undefined, o: Common & CollectorCommandOptions) => {
      if (!job) return runCollector(o);
      const c = makeClients(o);
      const res = await c.results.listJobResults({ jobId: job });
      if (o.json) printJson(ListJobResultsResponseSchema, res);
      else console.log(renderResultsTable(res.tasks));
      c.close();
    });

  endpointOptions(program.command('cancel <job>').description('cancel a job: pending tasks stop, running ones are killed')).action(async (job: string, o: Common) => {
    const c = makeClients(o);
    const res = await c.scheduler.cancelJob({ jobId: job });
    if (o.json) printJson(CancelJobResponseSchema, res);
    else console.log(`${job} cancelled`);
    c.close();
  });
  schedulingCommands(program, { endpointOptions, printJson });
  return program;
}

/** Prints an error for a person and picks the exit code. */
export function reportError(e: unknown): number {
  if (e instanceof SuiteError) {
    console.error(e.message);
    return exitCode.usageOrInfra;
  }
  const shed = shedMessage(e);
  if (shed) {
    console.error(shed);
    return exitCode.usageOrInfra;
  }
  if (e instanceof ConnectError) {
    const hint = e.code === Code.Unavailable || e.code === Code.Unknown ? ' (is `dtf up` or the coordinator running? see --gateway / --coordinator)' : '';
    console.error(`dtf: ${Code[e.code].toLowerCase()}: ${e.rawMessage}${hint}`);
    return exitCode.usageOrInfra;
  }
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOENT' && err.path) {
    console.error(`dtf: ${err.path}: no such file`);
    return exitCode.usageOrInfra;
  }
  if (err?.code === 'ECONNREFUSED') {
    console.error(`dtf: cannot connect (${err.message}); is \`dtf up\` running?`);
    return exitCode.usageOrInfra;
  }
  console.error(`dtf: ${err?.message ?? String(e)}`);
  return exitCode.usageOrInfra;
}

/** Runs the CLI with `argv` (as process.argv). */
export function main(argv: string[]): void {
  const program = buildProgram();
  // Usage errors exit 2 in every subcommand too (commander does not pass this down to existing ones).
  const overrideAll = (cmd: Command): void => {
    cmd.exitOverride((err) => {
      process.exit(err.exitCode === 0 ? 0 : exitCode.usageOrInfra);
    });
    cmd.commands.forEach(overrideAll);
  };
  overrideAll(program);
  program
    .parseAsync(argv)
    .catch((e) => {
      process.exitCode = reportError(e);
    });
}
