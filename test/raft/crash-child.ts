/**
 * The process the storage crash test kills. It writes a fixed workload to a
 * FileStorage and prints "acked <index> <commit>" after each sync returns.
 * With CRASH_AT=k it SIGKILLs itself just before the k-th disk operation;
 * without, it prints "steps <n>" at the end: the number of operations.
 */
import * as fs from 'node:fs';
import { FileStorage } from '../../libs/raft/file-storage';
import { EntryType } from '../../libs/raft/types';

const dir = process.argv[2];
const crashAt = Number(process.env.CRASH_AT ?? 0);
let steps = 0;
const out = (line: string): void => {
  fs.writeSync(1, line + '\n');
};

const s = FileStorage.open(dir, {
  segmentBytesMax: 150,
  beforeStep: (step, file) => {
    steps++;
    if (steps === crashAt) {
      out(`crash before ${step} ${file}`);
      process.kill(process.pid, 'SIGKILL');
    }
  },
});
const start = s.lastIndex() + 1;
for (let i = start; i < start + 8; i++) {
  s.append([{ index: i, term: 1, type: EntryType.NORMAL, data: new Uint8Array(Buffer.from(`entry-${i}`)) }]);
  s.setHardState({ term: 1, vote: 1, commit: i });
  s.sync();
  out(`acked ${i} ${i}`);
  if (i === start + 5) {
    s.createSnapshot(i - 2, { voters: [1] }, new Uint8Array(Buffer.from(`state-${i - 2}`)));
    s.compact(i - 2);
    out(`snapshot ${i - 2}`);
  }
}
s.close();
out(`steps ${steps}`);
