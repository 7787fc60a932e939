import { tellParent } from './child';
import { preparedCoordinator } from './ingest-rate';

/**
 * The ingest scenario's coordinator for the gRPC feed, in its own process as
 * in a deployment where `dtf results --coordinator` tails it from elsewhere.
 * Args: <data dir> <results>. Prepares the log, says `ready` with its port
 * and newest event index, and serves the feed until SIGTERM.
 */
async function main(): Promise<void> {
  const [dir, results] = process.argv.slice(2);
  const c = await preparedCoordinator(dir, Number(results));
  process.once('SIGTERM', () => {
    void c.stop().finally(() => process.exit(0));
  });
  tellParent({ type: 'ready', port: c.port, last: String(c.state.events.last) });
}

main().catch((e: Error) => {
  tellParent({ type: 'error', message: e.stack ?? e.message });
  process.exit(1);
});
