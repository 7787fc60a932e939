import { create } from '@bufbuild/protobuf';
import { TaskSchema, TaskSpecSchema, TaskState } from '../gen/dtf/common/v1/common_pb';
import { fastFromBinary } from '../rpc/fast-from-binary';
import { fastToBinary } from '../rpc/fast-binary';
import { newTask, NONE } from './new-task';

describe('newTask', () => {
  const spec = create(TaskSpecSchema, { name: 'unit', argv: ['true'], timeoutMs: 1000 });

  it('equals create(TaskSchema) for the same fields, with every field present', () => {
    const full = { id: 'j.1', jobId: 'j', spec, state: TaskState.PENDING, createdAtMs: 5n, predictedDurationMs: 12, waitingOn: ['j.0'] };
    expect(newTask(full)).toEqual(create(TaskSchema, full));
    expect(newTask({ id: 'j.2' })).toEqual(create(TaskSchema, { id: 'j.2' }));
    // A field added to Task later must be added here too: the literal lists them all.
    expect(Object.keys(newTask({ id: 'x' })).sort()).toEqual(['$typeName', ...TaskSchema.fields.map((f) => f.localName)].sort());
  });

  it('shares the spec and the frozen empty lists, and encodes like any task', () => {
    const t = newTask({ id: 'j.1', spec });
    expect(t.spec).toBe(spec);
    expect(t.warnings).toBe(NONE);
    expect(() => (t.waitingOn as string[]).push('x')).toThrow(TypeError);
    expect(fastFromBinary(TaskSchema, fastToBinary(TaskSchema, t))).toEqual(create(TaskSchema, { id: 'j.1', spec }));
  });
});
