import { TaskState, TestCaseStatus, type Job, type Task } from '../../libs/gen/dtf/common/v1/common_pb';
import { durationSeconds } from './results-table';

function esc(s: string): string {
  // XML 1.0 cannot carry these control characters at all, even escaped.
  // eslint-disable-next-line no-control-regex
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '');
}

/**
 * JUnit XML for a finished job: one <testsuite> per task. A task that left
 * its own junit.xml contributes its test cases; any other task is one case
 * whose outcome is the task's.
 */
export function junitReport(job: Job, tasks: Task[]): string {
  const suites = tasks.map((t) => {
    const name = t.spec?.name || t.id;
    const cases = t.result?.testCases ?? [];
    let body: string[];
    if (cases.length > 0) {
      body = cases.map((c) => {
        const inner =
          c.status === TestCaseStatus.FAILED ? `<failure message="${esc(c.message)}"/>` :
          c.status === TestCaseStatus.ERRORED ? `<error message="${esc(c.message)}"/>` :
          c.status === TestCaseStatus.SKIPPED ? '<skipped/>' : '';
        return `    <testcase classname="${esc(c.classname || c.suite || name)}" name="${esc(c.name)}" time="${c.durationSeconds}">${inner}</testcase>`;
      });
    } else {
      const msg = esc(t.result?.error || `exit ${t.result?.exitCode ?? ''}`);
      const inner =
        t.state === TaskState.SUCCEEDED ? '' :
        t.state === TaskState.FAILED ? `<failure message="${msg}"/>` :
        t.state === TaskState.CANCELLED ? '<skipped message="cancelled"/>' : `<error message="${msg}"/>`;
      body = [`    <testcase classname="${esc(job.name)}" name="${esc(name)}" time="${durationSeconds(t) ?? 0}">${inner}</testcase>`];
    }
    const failures = body.filter((b) => b.includes('<failure')).length;
    const errors = body.filter((b) => b.includes('<error')).length;
    const skipped = body.filter((b) => b.includes('<skipped')).length;
    return `  <testsuite name="${esc(name)}" tests="${body.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${durationSeconds(t) ?? 0}">\n${body.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${esc(job.name)}">\n${suites.join('\n')}\n</testsuites>\n`;
}
