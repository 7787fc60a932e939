import { todo, type Scenario } from '../scenario';
import { backlog } from './backlog';
import { embedded } from './embedded';
import { fleet } from './fleet';
import { ingest } from './ingest';
import { latency } from './latency';
import { limit } from './limit';
import { raft } from './raft';
import { throughput } from './throughput';

const notYet = 'not built yet (issue 5)';

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
  todo('makespan', '1,000 heavy-tailed tasks on 8 workers against max(sum/8, longest): duration-aware vs round-robin shards vs history-blind pull', notYet),
  todo('failover', 'kill the leader → first accepted submission, over ≥ 20 trials', 'needs replicated coordinators, which do not exist yet'),
];
