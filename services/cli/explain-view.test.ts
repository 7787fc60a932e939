import { create } from '@bufbuild/protobuf';
import { TaskSchema, TaskState } from '../../libs/gen/dtf/common/v1/common_pb';
import { ExplainTaskResponseSchema, Verdict, WorkerVerdictSchema } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { renderExplanation } from './explain-view';

const task = create(TaskSchema, { id: 'job-1.3', state: TaskState.PENDING, spec: { name: 'bench-cuda' } });
const verdict = (workerName: string, v: Verdict, reason: string) => create(WorkerVerdictSchema, { workerId: `id-${workerName}`, workerName, verdict: v, reason });

describe('renderExplanation', () => {
  it('shows the summary, the queue position and a row per worker', () => {
    const x = create(ExplainTaskResponseSchema, {
      task, summary: 'position 3 of 120 in its queue; waiting: 1 able worker is busy', queuePosition: 3, queueLength: 120,
      workers: [verdict('w1', Verdict.BUSY, 'no free slot'), verdict('gpu-box', Verdict.MISSING_DEVICE, 'no cuda device (has cpu)')],
    });
    expect(renderExplanation(x)).toBe([
      'task            job-1.3 (bench-cuda), pending',
      'summary         position 3 of 120 in its queue; waiting: 1 able worker is busy',
      'queue position  3 of 120',
      '',
      'WORKER   ID          VERDICT         REASON',
      'w1       id-w1       busy            no free slot',
      'gpu-box  id-gpu-box  missing device  no cuda device (has cpu)',
      '',
      '2 live workers: 0 able with room now, 1 busy, 1 unable or held back',
    ].join('\n'));
  });

  it('says when no live worker could ever run it, and when it is not queued', () => {
    const x = create(ExplainTaskResponseSchema, {
      task, summary: 'no live worker could ever run it: w1: no cuda device (has cpu)', neverRunnable: true, queuePosition: 0, queueLength: 0,
      workers: [verdict('w1', Verdict.MISSING_DEVICE, 'no cuda device (has cpu)')],
    });
    const text = renderExplanation(x);
    expect(text).toMatch(/^queue position {2}not in the ready queue \(0 queued for the same workers\)$/m);
    expect(text).toMatch(/^never runnable {2}no live worker can run it even when idle/m);
  });

  it('does not call a finished task never runnable, and copes with no workers', () => {
    const done = create(TaskSchema, { ...task, state: TaskState.SUCCEEDED });
    const text = renderExplanation(create(ExplainTaskResponseSchema, { task: done, summary: 'not pending: the task is succeeded', neverRunnable: true }));
    expect(text).not.toMatch(/never runnable/);
    expect(text.endsWith('\n\nno live workers')).toBe(true);
    const alone = renderExplanation(create(ExplainTaskResponseSchema, { task, summary: 'no worker is online', neverRunnable: true }));
    expect(alone).not.toMatch(/never runnable/);
  });
});
