import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import type { Command } from 'commander';
import { ClearQuarantineResponseSchema } from '../../libs/gen/dtf/registry/v1/registry_service_pb';
import { ExplainTaskResponseSchema } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { makeClients, type Endpoint } from './clients';
import { renderExplanation } from './explain-view';

/** What main.ts gives every client command: the endpoint options and JSON output. */
export interface CommandKit {
  endpointOptions(cmd: Command): Command;
  printJson<D extends DescMessage>(schema: D, msg: MessageShape<D>): void;
}

interface Common extends Endpoint {
  json?: boolean;
}

/** Adds `dtf explain <task-id>` and `dtf quarantine clear <worker-id>`. */
export function schedulingCommands(program: Command, kit: CommandKit): void {
  kit.endpointOptions(
    program.command('explain <task-id>')
      .description("why a task is not running: a summary, its place in the queue, and each live worker's verdict (able, busy, missing device, quarantined, …) with the reason"),
  ).action(async (taskId: string, o: Common) => {
    const c = makeClients(o);
    try {
      const res = await c.scheduler.explainTask({ taskId });
      if (o.json) kit.printJson(ExplainTaskResponseSchema, res);
      else console.log(renderExplanation(res));
    } finally {
      c.close();
    }
  });

  const quarantine = program.command('quarantine')
    .description('workers the circuit breaker took out of service after repeated infrastructure failures (see `dtf workers`)');
  kit.endpointOptions(
    quarantine.command('clear <worker-id>')
      .description('put a quarantined worker back in service at once, with its failure count reset'),
  ).action(async (workerId: string, o: Common) => {
    const c = makeClients(o);
    try {
      const res = await c.registry.clearQuarantine({ workerId });
      if (o.json) kit.printJson(ClearQuarantineResponseSchema, res);
      else console.log(`${res.worker?.name || workerId} (${workerId}) is back in service`);
    } finally {
      c.close();
    }
  });
}
