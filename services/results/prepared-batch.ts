import type { Event } from '../../libs/gen/dtf/result/v1/result_service_pb';
import { EventRows } from './event-rows';

/**
 * A batch of feed events turned into rows, ready for
 * {@link ResultStore.write}. Preparing is pure JavaScript and needs no
 * database, so the collector prepares the next batch while DuckDB commits
 * the previous one.
 */
export interface PreparedBatch {
  /** The applied index the batch was prepared against: events at or below it were skipped. */
  readonly after: bigint;
  /** The applied index once the batch is stored (`after` when every event was already stored). */
  readonly last: bigint;
  readonly rows: EventRows;
}

/**
 * Prepares `events` for a store whose applied index is `after`. Events at or
 * below the index seen so far are skipped, which drops both re-delivered
 * events and duplicates inside the batch. Throws, before anything is
 * written, on a malformed event.
 */
export function prepareBatch(events: readonly Event[], after: bigint): PreparedBatch {
  const rows = new EventRows();
  let last = after;
  for (const event of events) {
    if (event.index <= last) continue;
    rows.add(event);
    last = event.index;
  }
  return { after, last, rows };
}
