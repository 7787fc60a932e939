import { createHandlerContext } from '@connectrpc/connect';
import { Gauge, Registry } from 'prom-client';
import { SchedulerService } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import type { CoordinatorImpls } from './service-impls';

/**
 * Prometheus metrics for /api/metrics, read from the coordinator's status
 * at scrape time so they are never stale.
 */
export class GatewayMetrics {
  private readonly registry = new Registry();
  private readonly gauges: Record<string, Gauge>;

  constructor(private readonly impls: CoordinatorImpls) {
    const g = (name: string, help: string) => new Gauge({ name, help, registers: [this.registry] });
    this.gauges = {
      pending: g('dtf_tasks_pending', 'Tasks waiting for a worker.'),
      running: g('dtf_tasks_running', 'Tasks running now.'),
      jobs: g('dtf_jobs_active', 'Jobs with unfinished tasks.'),
      online: g('dtf_workers_online', 'Workers online.'),
      workers: g('dtf_workers_known', 'Workers known, in any state.'),
      applied: g('dtf_log_applied_index', 'Index of the last applied log entry.'),
      stale: g('dtf_stale_results_rejected', 'Results rejected because their attempt was no longer current (a counter since start).'),
      rss: g('dtf_process_resident_memory_bytes', 'Resident memory of the gateway process.'),
      quarantined: g('dtf_workers_quarantined', 'Online workers quarantined by their circuit breaker.'),
      shed: g('dtf_submissions_shed', 'Submissions refused because a queue bound was reached (a counter since start).'),
      withdrawn: g('dtf_assignments_withdrawn', 'Assignments pushed to a worker that the log then refused; the worker was told to cancel them (a counter since start).'),
    };
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async render(): Promise<string> {
    const method = SchedulerService.method.getStatus;
    const ctx = createHandlerContext({ service: SchedulerService, method, protocolName: 'internal', requestMethod: 'GET', url: '' });
    const st = await this.impls.scheduler.getStatus({ $typeName: 'dtf.scheduler.v1.GetStatusRequest' }, ctx);
    const gs = this.gauges;
    gs.pending.set(st.tasksPending ?? 0);
    gs.running.set(st.tasksRunning ?? 0);
    gs.jobs.set(st.jobsActive ?? 0);
    gs.online.set(st.workersOnline ?? 0);
    gs.workers.set(st.workersTotal ?? 0);
    gs.applied.set(Number(st.appliedIndex ?? 0));
    gs.stale.set(Number(st.staleResultsRejected ?? 0));
    gs.rss.set(process.memoryUsage().rss);
    gs.quarantined.set(st.workersQuarantined ?? 0);
    gs.shed.set(Number(st.submissionsShed ?? 0));
    gs.withdrawn.set(Number(st.assignmentsWithdrawn ?? 0));
    return this.registry.metrics();
  }
}
