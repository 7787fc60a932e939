import type { Scenario } from '../scenario';
import { backlog } from './backlog';
import { embedded } from './embedded';
import { failover } from './failover';
import { fleet } from './fleet';
import { ingest } from './ingest';
import { latency } from './latency';
import { makespan } from './makespan';
import { limit } from './limit';
import { raft } from './raft';
import { throughput } from './throughput';


/**
 * Every scenario, in the order `npm run bench` runs them. `limit` comes after
 * `throughput` so it can reuse that scenario's DTF figure.
 */
export const scenarios: Scenario[] = [
  throughput,
  limit,
  latency,
  embedded,
  raft,
  ingest,
  backlog,
  fleet,
  makespan,
  failover,
];
