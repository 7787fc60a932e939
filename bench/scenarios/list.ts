import { todo, type Scenario } from '../scenario';
import { backlog } from './backlog';
import { embedded } from './embedded';
import { fleet } from './fleet';
import { ingest } from './ingest';
import { latency } from './latency';
import { makespan } from './makespan';
import { limit } from './limit';
import { raft } from './raft';
import { throughput } from './throughput';


/**
 * Every scenario, in the order `npm run bench` runs them. `limit` comes after
 * `throughput` so it can reuse that scenario's DTF figure. The TODO entries
 * are issue 5's scenarios that have no harness yet; they report TODO, never
 * a figure.
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
  todo('failover', 'kill the leader → first accepted submission, over ≥ 20 trials', 'needs replicated coordinators, which do not exist yet'),
];
