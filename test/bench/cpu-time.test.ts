import { cpuShares, describeShares, parseProcStat } from '../../bench/cpu-time';

describe('parseProcStat', () => {
  it('reads the aggregate line: iowait is idle, guest time is not counted twice', () => {
    const text = 'cpu  100 10 50 800 20 5 5 10 7 0\ncpu0 50 5 25 400 10 2 3 5 3 0\nintr 1\n';
    expect(parseProcStat(text)).toEqual({ busy: 170, idle: 820, steal: 10 });
  });

  it('gives undefined for text without a cpu line or with too few fields', () => {
    expect(parseProcStat('intr 1 2 3\n')).toBeUndefined();
    expect(parseProcStat('cpu  1 2 3\n')).toBeUndefined();
  });
});

describe('cpuShares', () => {
  it('splits the time between two readings into busy, idle and stolen', () => {
    const s = cpuShares({ busy: 100, idle: 100, steal: 0 }, { busy: 170, idle: 120, steal: 10 })!;
    expect(s.busy).toBeCloseTo(0.7);
    expect(s.idle).toBeCloseTo(0.2);
    expect(s.steal).toBeCloseTo(0.1);
    expect(describeShares(s)).toBe('CPU 70% busy, 20% idle, 10% stolen by the hypervisor');
  });

  it('gives undefined when no time passed', () => {
    expect(cpuShares({ busy: 1, idle: 1, steal: 1 }, { busy: 1, idle: 1, steal: 1 })).toBeUndefined();
  });
});
