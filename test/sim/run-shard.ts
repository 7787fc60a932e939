/**
 * Runs seeds of one shard under a wall-time budget. The budget bounds CI
 * time on slow machines; a shard that cannot reach its share of seeds in the
 * budget fails rather than silently testing less.
 */
import { simulate } from './simulate';

/** Seeds every CI run must cover, over all shards together. */
export const seedsMin = 10_000;
export const shardCount = 4;
/** Wall time one shard may spend before it stops starting seeds. */
export const shardBudgetMs = 100_000;

/** Runs seeds shard, shard + shardCount, ... ; returns how many ran. */
export function runShard(shard: number): { seeds: number; operations: number } {
  const perShard = Math.ceil(seedsMin / shardCount);
  const started = Date.now();
  let operations = 0;
  let seeds = 0;
  for (let i = 0; i < perShard; i++) {
    if (Date.now() - started > shardBudgetMs) break;
    operations += simulate(1 + shard + i * shardCount).operations;
    seeds++;
  }
  return { seeds, operations };
}
