import { clone, create, isFieldSet } from '@bufbuild/protobuf';
import { JobSchema, JobState } from '../gen/dtf/common/v1/common_pb';
import { jobSnapshot } from './job-snapshot';

describe('jobSnapshot', () => {
  const full = () => create(JobSchema, {
    id: 'j1', name: 'nightly', idempotencyKey: 'k', state: JobState.RUNNING,
    counts: { total: 8, pending: 1, running: 2, succeeded: 1, failed: 1, cancelled: 1, errored: 1, skipped: 1 },
    submittedAtMs: 5n, finishedAtMs: 9n, labels: { team: 'ml', sha: 'abc' }, tenant: 't', warnings: ['late'],
  });

  it('equals clone(JobSchema), with every field set and with none', () => {
    const job = full();
    // Every field is set, so a field the snapshot dropped would show below.
    expect(JobSchema.fields.filter((f) => !isFieldSet(job, f)).map((f) => f.localName)).toEqual([]);
    expect(jobSnapshot(job)).toStrictEqual(clone(JobSchema, job));
    expect(jobSnapshot(create(JobSchema))).toStrictEqual(clone(JobSchema, create(JobSchema)));
  });

  it('shares nothing a later change to the job could reach', () => {
    // A field added to Job as a message, map or list must be copied in jobSnapshot.
    const nested = JobSchema.fields.filter((f) => f.fieldKind !== 'scalar' && f.fieldKind !== 'enum').map((f) => f.localName);
    expect(nested.sort()).toEqual(['counts', 'labels', 'warnings']);
    const job = full();
    const snap = jobSnapshot(job);
    job.counts!.succeeded++;
    job.labels.team = 'infra';
    job.warnings.push('later');
    job.state = JobState.SUCCEEDED;
    expect(snap).toStrictEqual(clone(JobSchema, full()));
  });
});
