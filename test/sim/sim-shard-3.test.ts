/** Shard 3 of the seeded simulation; see run-shard.ts. Skipped when SEED replays one seed. */
import { runShard, seedsMin, shardCount } from './run-shard';

const maybe = process.env.SEED ? test.skip : test;

maybe('simulation shard 3: its share of seeds, all safe and linearizable', () => {
  const { seeds, operations } = runShard(3);
  expect(seeds).toBe(Math.ceil(seedsMin / shardCount));
  expect(operations).toBeGreaterThan(seeds); // The workload really ran.
}, 150_000);
