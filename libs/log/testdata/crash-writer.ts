/*
 * Helper for file-log.test.ts's crash test: opens the log named by the last
 * argument and proposes entries 1, 2, 3… forever, a few in flight at a time,
 * printing each entry's number once its proposal resolves (is durable). The
 * test SIGKILLs it mid-stream and checks every printed entry survived.
 */
import { create } from '@bufbuild/protobuf';
import { CommandSchema } from '../../gen/dtf/state/v1/command_pb';
import { FileLog } from '../file-log';

/** Proposals in flight at once, so group commit batches several. */
const inFlightMax = 8;

async function main(path: string): Promise<void> {
  const log = await FileLog.open(path, () => ({ kind: 'ok' }));
  let next = Number(log.appliedIndex()) + 1;
  const proposeOne = (): void => {
    const n = next++;
    const cmd = create(CommandSchema, { timeMs: BigInt(n), kind: { case: 'collectorCheckpoint', value: { index: BigInt(n) } } });
    log.propose(cmd).then(
      () => {
        process.stdout.write(`${n}\n`);
        proposeOne();
      },
      (e: Error) => {
        process.stderr.write(`propose ${n} failed: ${e.message}\n`);
        process.exit(1);
      },
    );
  };
  for (let i = 0; i < inFlightMax; i++) proposeOne();
}

void main(process.argv[process.argv.length - 1]!);
