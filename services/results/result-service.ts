import { Code, ConnectError, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import type { Event, ResultService, TailEventsResponse } from '../../libs/gen/dtf/result/v1/result_service_pb';
import type { Coordinator } from '../coordinator/coordinator';
import { jobOf, taskView } from '../scheduler/scheduler-service';

/**
 * Weight of one feed message at most: an event weighs 1, plus 1 per task it
 * carries (a submitted job carries all of its tasks), so a message stays a
 * few MiB at most however the events are made up. An event heavier than
 * this still goes, alone.
 */
export const feedWeightPerMessageMax = 2000;

/** ResultService: results from the coordinator's state, and the event feed. */
export function resultService(c: Coordinator): ServiceImpl<typeof ResultService> {
  return {
    async getTaskResult(req) {
      const task = taskView(c, req.taskId);
      return { task, attempts: c.state.attemptsOf(req.taskId) };
    },
    async listJobResults(req) {
      const job = jobOf(c, req.jobId);
      return { job, tasks: c.state.taskIdsOf(req.jobId).map((id) => c.state.tasks.get(id)!.task) };
    },
    tailEvents(req, ctx) {
      const first = c.state.events.first;
      if (req.afterIndex + 1n < first) {
        throw new ConnectError(
          `events ${req.afterIndex + 1n}..${first - 1n} were released after an earlier collector checkpoint; this collector's database is older than the checkpoint`,
          Code.OutOfRange,
        );
      }
      return tail(c, req.afterIndex, ctx);
    },
    async commitCheckpoint(req) {
      if (req.index > c.state.events.last) {
        throw new ConnectError(`checkpoint ${req.index} is past the newest event ${c.state.events.last}`, Code.InvalidArgument);
      }
      if (req.index >= c.state.events.first) {
        await c.log.propose(c.hub.command({ case: 'collectorCheckpoint', value: { $typeName: 'dtf.state.v1.CollectorCheckpoint', index: req.index } }));
      }
      return {};
    },
  };
}

async function* tail(c: Coordinator, after: bigint, ctx: HandlerContext): AsyncIterable<TailEventsResponse> {
  let sent = after;
  while (!ctx.signal.aborted) {
    const events = boundedByWeight(c.state.events.after(sent, feedWeightPerMessageMax));
    if (events.length === 0) {
      await c.changes.next(ctx.signal);
      continue;
    }
    sent = events[events.length - 1].index;
    yield { $typeName: 'dtf.result.v1.TailEventsResponse', events, idle: sent === c.state.events.last && c.state.idle };
  }
}

function weight(e: Event): number {
  return 1 + (e.kind.case === 'jobSubmitted' ? e.kind.value.tasks.length : 0);
}

/** The longest prefix of `events` within {@link feedWeightPerMessageMax}, never empty. */
function boundedByWeight(events: Event[]): Event[] {
  let total = 0;
  for (let i = 0; i < events.length; i++) {
    total += weight(events[i]);
    if (total > feedWeightPerMessageMax) return events.slice(0, Math.max(1, i));
  }
  return events;
}
