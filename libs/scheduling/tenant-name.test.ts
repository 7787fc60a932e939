import { tenantNameProblem } from './tenant-name';

describe('tenantNameProblem', () => {
  it.each(['', 'team-a', 'A', 'ml.infra_2', 'x'.repeat(63)])('accepts %j', (name) => {
    expect(tenantNameProblem(name)).toBeUndefined();
  });
  it.each([
    ['team a', 'is not a tenant name'],
    ['-team', 'is not a tenant name'],
    ['team-', 'is not a tenant name'],
    ['équipe', 'is not a tenant name'],
    ['x'.repeat(64), 'is longer than 63 characters'],
  ])('refuses %j', (name, why) => {
    expect(tenantNameProblem(name)).toContain(why);
  });
});
