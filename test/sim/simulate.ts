/** One seeded simulation run: draw a scenario, play it, check everything. */
import { SeededRng } from '../../libs/raft/rng';
import { checkKv } from './linearizability';
import { SimCluster, type Scenario } from './sim-cluster';

import { createHash } from 'node:crypto';

/** Simulated time units per tick at nominal clock speed. */
const tickPeriodNominal = 10;
/** Simulated run length, in time units (about 200 ticks). */
const durationUnits = 2000;

/** Draws the scenario for a seed: cluster size, fault rates, clock drift. */
export function scenarioFor(seed: number): Scenario {
  const rng = new SeededRng(seed ^ 0x9e3779b9);
  const nodeCount = rng.chance(0.5) ? 3 : 5;
  const joinersMax = 2;
  // Up to ±20% drift between node clocks.
  const tickPeriods = Array.from({ length: nodeCount + joinersMax }, () => tickPeriodNominal - 2 + rng.nextInt(5));
  const delayMax = 1 + rng.nextInt(30);
  return {
    nodeCount,
    tickPeriods,
    faults: {
      dropRate: rng.nextFloat() * 0.15,
      duplicateRate: rng.nextFloat() * 0.05,
      delayMin: 1,
      delayMax,
    },
    crashRate: rng.nextFloat() * 0.002,
    crashBeforeSyncRate: rng.nextFloat() * 0.002,
    partitionRate: 0.0005 + rng.nextFloat() * 0.003,
    isolateLeaderShare: 0.75,
    isolatedClockStall: 0.8,
    transferRate: rng.nextFloat() * 0.002,
    // A third of the seeds add and remove nodes, one change at a time.
    membershipRate: rng.chance(1 / 3) ? 0.001 + rng.nextFloat() * 0.003 : 0,
    joinersMax,
    // Mostly one register, so that every read races the writes.
    workload: { keys: rng.chance(0.7) ? 1 : 2, readers: 2, writers: 3 },
    duration: durationUnits,
  };
}

/** What one run did, for reporting. */
export interface SimResult {
  seed: number;
  operations: number;
  commit: number;
  /** With `digest`: sha256 of the client history and every node's final status, to compare replays. */
  digest?: string;
}

/** Runs one seed; throws with the seed in the message on any violation. */
export function simulate(seed: number, opts: { digest?: boolean } = {}): SimResult {
  const scenario = scenarioFor(seed);
  try {
    const cluster = new SimCluster(seed, scenario);
    const history = cluster.run();
    const lin = checkKv(history);
    if (!lin.ok) {
      throw new Error(`linearizability violated on key ${lin.key}: ${JSON.stringify(lin.ops)}`);
    }
    const result: SimResult = { seed, operations: history.length, commit: Math.max(...cluster.hosts.map((h) => h.node.status().commit)) };
    if (opts.digest) {
      const statuses = cluster.hosts.map((h) => h.node.status());
      result.digest = createHash('sha256').update(JSON.stringify({ history, statuses })).digest('hex');
    }
    return result;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const err = new Error(`simulation seed ${seed} failed (replay: SEED=${seed} npx jest test/sim): ${msg}\nscenario: ${JSON.stringify(scenario)}`);
    err.stack = `${err.message}\n${e instanceof Error ? e.stack : ''}`;
    throw err;
  }
}
