import { DeviceKind, WorkerState } from '../gen/dtf/common/v1/common_pb';
import { explainPending, explainedWorkersMax } from './explain-pending';
import { GiB, task, worker } from './test-workers';

const { CPU, CUDA } = DeviceKind;

describe('explainPending', () => {
  const cudaTask = task('t', { anyOf: [CUDA], deviceMemoryMinBytes: 40n * GiB });

  it('says when no worker is online, counting lost and left ones as absent', () => {
    expect(explainPending(cudaTask, [])).toBe('no worker is online');
    const gone = [worker({ id: 'a', state: WorkerState.LOST }), worker({ id: 'b', state: WorkerState.LEFT })];
    expect(explainPending(cudaTask, gone)).toBe('no worker is online');
  });

  it('names each live worker with its reason, by name or else by id', () => {
    const ws = [
      worker({ id: 'w-1', name: 'laptop', devices: [[CPU, 0n]] }),
      worker({ id: 'w-2', devices: [[CUDA, 16n * GiB]] }),
      worker({ id: 'w-3', name: 'big', devices: [[CUDA, 80n * GiB]], cordoned: true }),
      worker({ id: 'w-4', name: 'gone', devices: [[CUDA, 80n * GiB]], state: WorkerState.LOST }),
    ];
    expect(explainPending(cudaTask, ws)).toBe(
      'no live worker can run it: laptop: no cuda device (has cpu); w-2: device memory 16GiB < 40GiB required; big: cordoned',
    );
  });

  it('says the task waits for a slot when some live worker could run it', () => {
    const able = worker({ id: 'a', devices: [[CUDA, 80n * GiB]] });
    expect(explainPending(cudaTask, [able, worker({ id: 'c' })])).toBe('waiting for a free slot on 1 able worker');
    expect(explainPending(cudaTask, [able, worker({ id: 'b', devices: [[CUDA, 40n * GiB]] })])).toBe('waiting for a free slot on 2 able workers');
  });

  it(`names at most ${explainedWorkersMax} workers and counts the rest`, () => {
    const ws = Array.from({ length: explainedWorkersMax + 3 }, (_, i) => worker({ id: `w${i}`, devices: [[CPU, 0n]] }));
    const why = explainPending(cudaTask, ws);
    for (let i = 0; i < explainedWorkersMax; i++) expect(why).toContain(`w${i}: no cuda device`);
    expect(why).not.toContain(`w${explainedWorkersMax}:`);
    expect(why.endsWith('; and 3 more')).toBe(true);
  });
});
