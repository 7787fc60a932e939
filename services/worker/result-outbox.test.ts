import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { AttemptKeySchema, AttemptOutcome, AttemptResultSchema, MetricSchema } from '../../libs/gen/dtf/common/v1/common_pb';
import { ResultOutbox } from './result-outbox';

const key = (taskId: string, attempt = 1) => create(AttemptKeySchema, { taskId, attempt });
const result = (taskId: string, attempt = 1, finishedAtMs = 1n) =>
  create(AttemptResultSchema, {
    key: key(taskId, attempt),
    outcome: AttemptOutcome.SUCCEEDED,
    finishedAtMs,
    metrics: [create(MetricSchema, { name: 'x', value: 1.5, unit: 'ms' })],
  });

describe('ResultOutbox', () => {
  let dir: string;
  beforeEach(async () => {
    dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'dtf-outbox-')), 'outbox');
  });
  afterEach(async () => {
    await rm(path.dirname(dir), { recursive: true, force: true });
  });

  it('keeps results across a restart and forgets removed ones', async () => {
    const first = new ResultOutbox(dir);
    await first.add(result('b', 1, 20n));
    await first.add(result('a', 2, 10n));
    await first.add(result('../escape', 1, 30n));
    await first.remove(key('b', 1));
    await first.remove(key('never-added', 1));

    const second = new ResultOutbox(dir);
    expect(second.list().map((r) => [r.key?.taskId, r.key?.attempt])).toEqual([
      ['a', 2],
      ['../escape', 1],
    ]);
    expect(second.list()[0]).toEqual(result('a', 2, 10n));
    expect(await readdir(dir)).toHaveLength(2);
    expect(existsSync(path.join(path.dirname(dir), 'escape.1.result'))).toBe(false);
  });

  it('replaces the result of the same attempt', async () => {
    const outbox = new ResultOutbox(dir);
    await outbox.add(result('a', 1, 1n));
    await outbox.add(result('a', 1, 2n));
    expect(outbox.size).toBe(1);
    expect(new ResultOutbox(dir).list()[0].finishedAtMs).toBe(2n);
  });

  it('applies an add and a remove of one attempt in call order', async () => {
    const outbox = new ResultOutbox(dir);
    await Promise.all([outbox.add(result('a')), outbox.remove(key('a'))]);
    expect(outbox.list()).toEqual([]);
    expect(new ResultOutbox(dir).list()).toEqual([]);
  });

  it('skips corrupt files with a warning, sets them aside, and deletes leftover temp files', async () => {
    const seeded = new ResultOutbox(dir);
    await seeded.add(result('good'));
    await writeFile(path.join(dir, 'bad.1.result'), Buffer.from([0xff, 0xff, 0xff, 0xff]));
    await writeFile(path.join(dir, 'moved.1.result'), toBinary(AttemptResultSchema, result('other')));
    await writeFile(path.join(dir, 'good.1.result.123.4.tmp'), 'half written');
    const warnings: string[] = [];
    const outbox = new ResultOutbox(dir, { onWarning: (w) => warnings.push(w) });
    expect(outbox.list().map((r) => r.key?.taskId)).toEqual(['good']);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('bad.1.result: not a valid AttemptResult');
    expect(warnings[1]).toContain('belongs in another file');
    expect((await readdir(dir)).sort()).toEqual(['bad.1.result.corrupt', 'good.1.result', 'moved.1.result.corrupt']);
  });

  it('is bounded, but accepts a replacement when full', async () => {
    const outbox = new ResultOutbox(dir, { resultsMax: 2 });
    await outbox.add(result('a'));
    await outbox.add(result('b'));
    await expect(outbox.add(result('c'))).rejects.toThrow('is full (2 unacknowledged results)');
    await outbox.add(result('a'));
    expect(outbox.size).toBe(2);
  });

  it('rejects a result without a key', async () => {
    const outbox = new ResultOutbox(dir);
    await expect(outbox.add(create(AttemptResultSchema, {}))).rejects.toThrow('without a key');
  });
});
