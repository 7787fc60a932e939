import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { create } from '@bufbuild/protobuf';
import { AttemptKeySchema } from '../../libs/gen/dtf/common/v1/common_pb';
import { prepareAttemptDirs } from './attempt-dirs';

describe('prepareAttemptDirs', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'dtf-dirs-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('starts each attempt in a fresh directory, removing leftovers of an earlier run', async () => {
    const key = create(AttemptKeySchema, { taskId: 't', attempt: 1 });
    const first = await prepareAttemptDirs(root, key, '');
    await writeFile(path.join(first.outputDir, 'junit.xml'), 'stale');
    const again = await prepareAttemptDirs(root, key, '');
    expect(again).toEqual({ attemptDir: path.join(root, 't', '1'), outputDir: path.join(root, 't', '1', 'output'), cwd: path.join(root, 't', '1') });
    expect(existsSync(path.join(again.outputDir, 'junit.xml'))).toBe(false);
  });

  it('keeps a hostile task id inside the work root', async () => {
    const outside = path.join(root, 'precious');
    await mkdir(outside);
    const dirs = await prepareAttemptDirs(path.join(root, 'work'), create(AttemptKeySchema, { taskId: '..', attempt: 0 }), '');
    expect(dirs.attemptDir.startsWith(path.join(root, 'work') + path.sep)).toBe(true);
    expect(existsSync(outside)).toBe(true);
  });

  it('rejects an empty task id', async () => {
    await expect(prepareAttemptDirs(root, create(AttemptKeySchema, {}), '')).rejects.toThrow('empty task_id');
  });
});
