import { create } from '@bufbuild/protobuf';
import { AttemptResultSchema, type AttemptResult } from '../../libs/gen/dtf/common/v1/common_pb';
import type { ApplyResult } from '../../libs/state/coordinator-state';
import { FinishBatcher } from './finish-batcher';

const result = (taskId: string): AttemptResult => create(AttemptResultSchema, { key: { taskId, attempt: 1 } });

describe('FinishBatcher', () => {
  it('proposes results arriving in one turn as one entry and answers each caller with its own flags', async () => {
    const proposals: string[][] = [];
    const batcher = new FinishBatcher(async (results) => {
      proposals.push(results.map((r) => r.key!.taskId));
      return { kind: 'finished', accepted: [], rejected: [], recorded: results.map((r) => r.key!.taskId !== 'b') } as ApplyResult;
    });
    const [first, second] = await Promise.all([batcher.finish([result('a'), result('b')]), batcher.finish([result('c')])]);
    expect(proposals).toEqual([['a', 'b', 'c']]);
    expect(first).toEqual([true, false]);
    expect(second).toEqual([true]);
    await batcher.finish([result('d')]);
    expect(proposals).toHaveLength(2);
  });

  it('fails every caller of an entry that could not be committed', async () => {
    const batcher = new FinishBatcher(() => Promise.reject(new Error('disk gone')));
    const calls = [batcher.finish([result('a')]), batcher.finish([result('b')])];
    for (const c of calls) await expect(c).rejects.toThrow('disk gone');
  });
});
