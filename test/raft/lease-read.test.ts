/** Lease reads are opt-in: by default a read takes the ReadIndex heartbeat round. */
import { resolveConfig } from '../../libs/raft/config';
import { MemoryStorage } from '../../libs/raft/memory-storage';
import { SeededRng } from '../../libs/raft/rng';
import { InteractionEnv } from './interaction-env';

describe('lease reads', () => {
  const base = { id: 1, storage: new MemoryStorage(), rng: new SeededRng(1) };

  test('are off by default: readOnly is "safe" (ReadIndex)', () => {
    expect(resolveConfig(base).readOnly).toBe('safe');
  });

  test('need CheckQuorum', () => {
    expect(() => resolveConfig({ ...base, readOnly: 'lease', checkQuorum: false })).toThrow(/needs checkQuorum/);
  });

  test('a default leader confirms a read with a heartbeat round before answering', () => {
    const env = new InteractionEnv();
    for (const cmd of ['add-nodes 3', 'campaign 1', 'stabilize', 'read-index 1 r1']) env.run(cmd);
    const first = env.run('process-ready 1');
    expect(first).toContain('MsgHeartbeat Term:2 Commit:4 Context:"r1"');
    expect(first).not.toContain('ReadState');
    expect(env.run('stabilize')).toContain('ReadState Index:4 Context:r1');
  });
});
