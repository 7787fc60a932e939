import { safeName } from './safe-name';

describe('safeName', () => {
  it('keeps plain ids readable', () => {
    expect(safeName('job-1.task_2')).toBe('job-1.task_2');
  });

  it('cannot name another directory', () => {
    expect(safeName('..')).toBe('%2E%2E');
    expect(safeName('.')).toBe('%2E');
    expect(safeName('../etc/passwd')).toBe('..%2Fetc%2Fpasswd');
    expect(safeName('a/b')).not.toContain('/');
  });

  it('hashes long ids into a bounded, distinct name', () => {
    const a = safeName('x'.repeat(500));
    const b = safeName(`${'x'.repeat(499)}y`);
    expect(a).toMatch(/^%~[0-9a-f]{64}$/);
    expect(a).not.toBe(b);
  });
});
