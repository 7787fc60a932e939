import { statSync } from 'node:fs';
import type { ServiceImpl } from '@connectrpc/connect';
import type { CollectorService } from '../../libs/gen/dtf/result/v1/result_service_pb';
import type { Collector } from './collector';

/** CollectorService: what the collector has stored, read from DuckDB. */
export function collectorService(c: Collector, databasePath: string): ServiceImpl<typeof CollectorService> {
  return {
    async getCollectorStatus() {
      const st = await c.store.status();
      let bytes = st.databaseBytes;
      if (bytes === 0n) {
        try {
          bytes = BigInt(statSync(databasePath).size);
        } catch {
          bytes = 0n;
        }
      }
      return {
        appliedIndex: st.appliedIndex,
        databasePath,
        databaseBytes: bytes,
        jobs: st.jobs,
        tasks: st.tasks,
        attempts: st.attempts,
        testCases: st.testCases,
        metrics: st.metrics,
        connected: c.connected,
        lag: c.seenIndex > st.appliedIndex ? c.seenIndex - st.appliedIndex : 0n,
      };
    },
    async listTestCases(req) {
      return { testCases: await c.store.listTestCases(req.jobId) };
    },
    async listMetrics(req) {
      return { metrics: await c.store.listMetrics(req.jobId) };
    },
  };
}
