/**
 * Deterministic simulation: at least `seedsMin` seeds of 3- and 5-node
 * clusters under drops, delays, duplicates, reordering, partitions (both
 * symmetric and one-way), crashes that lose unsynced writes, and clock drift.
 * Every failure names its seed; SEED=n replays exactly that seed.
 *
 * The seeds are split over `shardCount` test files (sim-shard-*.test.ts) so
 * that jest can run them on separate workers.
 */
import { simulate } from './simulate';

test('the seed given in SEED replays (or seed 1 when unset)', () => {
  const seed = Number(process.env.SEED ?? 1);
  const result = simulate(seed);
  expect(result.commit).toBeGreaterThan(0);
});
