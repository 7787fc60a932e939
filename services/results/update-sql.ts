/**
 * The set-based statements a batch runs after its rows are appended: one
 * statement per table per batch, never one per row, because DuckDB pays a
 * fixed cost per statement that would dominate a batch of thousands.
 */

/** Joins each staged metric with its task's name and tags (the matrix values) on the way in. */
const insertMetricsSql = `INSERT INTO metrics
  SELECT s.task_id, s.job_id, s.attempt, COALESCE(t.name, ''), s.name, s.value, s.unit, COALESCE(t.tags, '{}')
  FROM stage_metrics s LEFT JOIN tasks t ON t.task_id = s.task_id`;

/** Task changes are merged per task before staging, so each task matches at most one row. */
const updateTasksSql = `UPDATE tasks SET
    state = COALESCE(u.state, tasks.state),
    attempts = GREATEST(tasks.attempts, COALESCE(u.attempts, 0)),
    finished_at = COALESCE(u.finished_at, tasks.finished_at)
  FROM stage_task_updates u WHERE tasks.task_id = u.task_id`;

/** An attempt starting moves a pending job to running; a JobFinished sets state and final counts. */
const updateJobsSql = `UPDATE jobs SET
    state = COALESCE(u.state, CASE WHEN u.started AND jobs.state = 'pending' THEN 'running' ELSE jobs.state END),
    finished_at = COALESCE(u.finished_at, jobs.finished_at),
    total = COALESCE(u.total, jobs.total),
    succeeded = COALESCE(u.succeeded, jobs.succeeded),
    failed = COALESCE(u.failed, jobs.failed),
    cancelled = COALESCE(u.cancelled, jobs.cancelled),
    errored = COALESCE(u.errored, jobs.errored)
  FROM stage_job_updates u WHERE jobs.job_id = u.job_id`;

/**
 * The statements that move staged rows into place, for the staging tables a
 * batch used, each followed by emptying its stage. The DELETE runs inside the
 * batch's transaction, so a rollback restores the stage along with the rest.
 */
export function stagedSql(stages: readonly string[]): string[] {
  const apply: Record<string, string> = {
    stage_metrics: insertMetricsSql,
    stage_task_updates: updateTasksSql,
    stage_job_updates: updateJobsSql,
  };
  return stages.flatMap((stage) => [apply[stage], `DELETE FROM ${stage}`]);
}
