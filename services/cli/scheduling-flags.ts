import { InvalidArgumentError, type Command } from 'commander';
import type { RankingMode } from '../../libs/scheduling/schedule-round';
import { defaultBounds } from '../../libs/state/admission';
import type { StateOptions } from '../../libs/state/coordinator-state';
import type { SchedulingOptions } from '../coordinator/dispatcher';

/** The scheduling flags as commander hands them over. */
export interface SchedulingFlags {
  agingMs?: number;
  queueMax?: number;
  tenantQueueMax?: number;
  tenantWeight?: string[];
  ranking?: RankingMode;
  poolRanking?: string[];
}

function count(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, not "${v}"`);
    return n;
  };
}

function pairs(v: string, prev: string[] = []): string[] {
  if (!/^[^=\s]+=[^=\s]+$/.test(v)) throw new InvalidArgumentError(`expected NAME=VALUE, not "${v}"`);
  return [...prev, v];
}

/** Adds the queue, aging, fair-share and ranking flags to `dtf coordinator` or `dtf up`. */
export function addSchedulingFlags(cmd: Command): Command {
  return cmd
    .option('--aging-ms <ms>', 'a queued task gains one priority level per this long; 0 turns aging off', count('--aging-ms', 0), 60_000)
    .option('--queue-max <n>', 'tasks queued at most, all tenants; past it submissions get 429', count('--queue-max', 1), defaultBounds.queuedMax)
    .option('--tenant-queue-max <n>', 'tasks one tenant may have queued at most', count('--tenant-queue-max', 1), defaultBounds.tenantQueuedMax)
    .option('--tenant-weight <tenant=w>', 'fair-share weight of a tenant (default 1); repeatable', pairs)
    .option('--ranking <mode>', 'how workers are chosen among able ones: spread or binpack', (v: string) => {
      if (v !== 'spread' && v !== 'binpack') throw new InvalidArgumentError(`--ranking must be spread or binpack, not "${v}"`);
      return v;
    }, 'spread')
    .option('--pool-ranking <pool=mode>', 'ranking for workers labelled pool=<pool>; repeatable', pairs);
}

/** The coordinator options the flags stand for. */
export function schedulingOptions(f: SchedulingFlags): { scheduling: Partial<Omit<SchedulingOptions, 'plugins'>>; policy: Partial<StateOptions> } {
  const tenantWeights: Record<string, number> = {};
  for (const p of f.tenantWeight ?? []) {
    const [name, w] = p.split('=');
    const n = Number(w);
    if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`--tenant-weight ${p}: the weight must be a positive number`);
    tenantWeights[name] = n;
  }
  const pools: Record<string, RankingMode> = {};
  for (const p of f.poolRanking ?? []) {
    const [pool, mode] = p.split('=');
    if (mode !== 'spread' && mode !== 'binpack') throw new InvalidArgumentError(`--pool-ranking ${p}: the mode must be spread or binpack`);
    pools[pool] = mode;
  }
  return {
    scheduling: { agingMs: f.agingMs ?? 60_000, tenantWeights, ranking: { default: f.ranking ?? 'spread', pools } },
    policy: { bounds: { queuedMax: f.queueMax ?? defaultBounds.queuedMax, tenantQueuedMax: f.tenantQueueMax ?? defaultBounds.tenantQueuedMax } },
  };
}
