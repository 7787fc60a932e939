/**
 * Runs a share of the simulation seeds in its own process and prints one
 * JSON line: {seeds, operations, failure}. The simulation test starts several
 * of these: plain Node runs the simulator about three times faster than
 * jest's module sandbox, and separate processes use every core.
 *
 * Usage: run-seeds.ts <first seed> <stride> <count> <budget ms>
 */
import { simulate } from './simulate';

function main(): void {
  const [first, stride, count, budgetMs] = process.argv.slice(2).map(Number);
  const started = Date.now();
  let seeds = 0;
  let operations = 0;
  let failure: string | undefined;
  for (let i = 0; i < count; i++) {
    if (Date.now() - started > budgetMs) break;
    try {
      operations += simulate(first + i * stride).operations;
      seeds++;
    } catch (e) {
      failure = e instanceof Error ? (e.stack ?? e.message) : String(e);
      break;
    }
  }
  process.stdout.write(JSON.stringify({ seeds, operations, failure }) + '\n');
}

if (require.main === module) main();
