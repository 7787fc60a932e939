import * as fs from 'node:fs';

/** A held lock on a data directory. */
export interface Lock {
  release(): void;
}

/**
 * Takes the lock file at `file`, holding our pid, so two processes never
 * append to one log. A lock left by a dead process (kill -9) is taken over.
 */
export function acquireLock(file: string): Lock {
  for (let tries = 0; tries < 2; tries++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return { release: () => fs.rmSync(file, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new Error(`${file} is held by process ${pid}: another coordinator uses this data directory; stop it or pick another --data-dir`);
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw new Error(`cannot take the lock ${file}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
