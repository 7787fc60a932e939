import { create } from '@bufbuild/protobuf';
import { CircuitBreakerSchema, WorkerSchema, WorkerState } from '../../libs/gen/dtf/common/v1/common_pb';
import { GetStatusResponseSchema } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { renderStatus, renderWorkersTable } from './fleet-views';

const nowMs = Date.UTC(2026, 0, 1, 12, 0, 0);
const worker = (id: string, name: string, breaker?: Partial<{ quarantined: boolean; probing: boolean; untilMs: bigint; reason: string }>) =>
  create(WorkerSchema, {
    id, name, state: WorkerState.ONLINE, slots: 2, freeSlots: 2, labels: { pool: 'a' },
    hardware: { cpuCores: 8, memoryBytes: 16n * 1024n ** 3n },
    breaker: breaker && create(CircuitBreakerSchema, breaker),
  });

describe('renderWorkersTable', () => {
  it('marks a quarantined worker in its state and says until when, why, and how to lift it', () => {
    const text = renderWorkersTable([
      worker('w-ok', 'ok'),
      worker('w-bad', 'bad', { quarantined: true, untilMs: BigInt(nowMs + 25_000), reason: '3 infrastructure failures in a row, the last: start failed' }),
      worker('w-probe', 'probe', { quarantined: true, probing: true, reason: 'r' }),
    ], nowMs);
    expect(text).toMatch(/^w-ok +ok +online +2\/2 free/m);
    expect(text).toMatch(/^w-bad +bad +online,quarantined +2\/2 free/m);
    expect(text).toMatch(/^w-probe +probe +online,probing /m);
    expect(text).toContain('bad (w-bad) quarantined, until 2026-01-01T12:00:25.000Z (25 s from now), then one probe task: 3 infrastructure failures in a row, the last: start failed; lift with `dtf quarantine clear w-bad`');
    expect(text).toContain('probe (w-probe) quarantined, a probe task is running');
  });

  it('says when a quarantine has cooled down', () => {
    const text = renderWorkersTable([worker('w', 'w', { quarantined: true, untilMs: BigInt(nowMs - 1), reason: 'r' })], nowMs);
    expect(text).toContain('cooled down: the next task it gets is a probe');
  });

  it('adds no note for healthy workers', () => {
    expect(renderWorkersTable([worker('w', 'w')], nowMs).split('\n').at(-1)).toBe('1 workers');
  });
});

describe('renderStatus', () => {
  it('shows quarantined workers, shed submissions and withdrawn assignments', () => {
    const text = renderStatus(create(GetStatusResponseSchema, { workersQuarantined: 2, submissionsShed: 7n, assignmentsWithdrawn: 3n }));
    expect(text).toMatch(/^quarantined +2 workers$/m);
    expect(text).toMatch(/^shed +7 submissions refused \(queue full\)$/m);
    expect(text).toMatch(/^withdrawn +3 assignments the log refused after the push$/m);
  });
});
