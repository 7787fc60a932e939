import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { AttemptKey } from '../../libs/gen/dtf/common/v1/common_pb';
import { safeName } from './safe-name';

/** Where one attempt runs and leaves its output. */
export interface AttemptDirs {
  /** `<workRoot>/<task_id>/<attempt>`, created fresh for this attempt. */
  attemptDir: string;
  /** `<attemptDir>/output`, given to the task as $DTF_OUTPUT_DIR. */
  outputDir: string;
  /** The task's working directory. */
  cwd: string;
}

/**
 * Creates a fresh directory for an attempt (a leftover one from an earlier run of the same
 * attempt, say before a worker restart, is removed first so no stale junit.xml is read) and
 * works out the working directory: a relative `workingDir` lies inside the attempt directory
 * and is created; an absolute one is used as it is and must already exist.
 *
 * Throws an Error saying what is wrong and what to do; the caller reports it as START_FAILED.
 */
export async function prepareAttemptDirs(workRoot: string, key: AttemptKey, workingDir: string): Promise<AttemptDirs> {
  if (key.taskId === '') throw new Error('the attempt key has an empty task_id; the coordinator must send one');
  const attemptDir = path.resolve(workRoot, safeName(key.taskId), String(key.attempt));
  const outputDir = path.join(attemptDir, 'output');
  await rm(attemptDir, { recursive: true, force: true });
  await mkdir(outputDir, { recursive: true });
  if (workingDir === '') return { attemptDir, outputDir, cwd: attemptDir };
  if (!path.isAbsolute(workingDir)) {
    const cwd = path.resolve(attemptDir, workingDir);
    await mkdir(cwd, { recursive: true });
    return { attemptDir, outputDir, cwd };
  }
  let isDir = false;
  try {
    isDir = (await stat(workingDir)).isDirectory();
  } catch {
    // Reported below together with "not a directory".
  }
  if (!isDir) {
    throw new Error(`working directory ${JSON.stringify(workingDir)} does not exist on this worker or is not a directory; fix working_dir in the task spec or create it on the worker`);
  }
  return { attemptDir, outputDir, cwd: workingDir };
}
