import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TestCaseStatus } from '../../libs/gen/dtf/common/v1/common_pb';
import { readTaskOutput } from './read-task-output';

describe('readTaskOutput', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dtf-out-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns nothing and no problems when the task left no files', async () => {
    expect(await readTaskOutput(dir)).toEqual({ testCases: [], metrics: [], problems: [] });
  });

  it('reads both files', async () => {
    await writeFile(path.join(dir, 'junit.xml'), '<testsuite name="s"><testcase name="a"/><testcase name="b"><failure/></testcase></testsuite>');
    await writeFile(path.join(dir, 'metrics.json'), '{"latency_ms": 3}');
    const out = await readTaskOutput(dir);
    expect(out.testCases.map((c) => c.status)).toEqual([TestCaseStatus.PASSED, TestCaseStatus.FAILED]);
    expect(out.metrics.map((m) => [m.name, m.value])).toEqual([['latency_ms', 3]]);
    expect(out.problems).toEqual([]);
  });

  it('turns broken files into problems that name the file', async () => {
    await writeFile(path.join(dir, 'junit.xml'), '<testsuite><testcase>');
    await mkdir(path.join(dir, 'metrics.json'));
    const out = await readTaskOutput(dir);
    expect(out.problems).toHaveLength(2);
    expect(out.problems[0]).toMatch(/^\$DTF_OUTPUT_DIR\/junit\.xml: malformed XML at line/);
    expect(out.problems[1]).toMatch(/^\$DTF_OUTPUT_DIR\/metrics\.json: cannot read/);
  });

  it('does not read an oversized metrics file', async () => {
    await writeFile(path.join(dir, 'metrics.json'), `{"x": 1, "pad": "${'x'.repeat(1024 * 1024)}"}`);
    const out = await readTaskOutput(dir);
    expect(out.problems[0]).toContain('more than the 1048576 read');
  });
});
