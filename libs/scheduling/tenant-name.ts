/** Tenant names are short identifiers: they key fair-share accounts, metrics and logs. */
export const tenantNameLengthMax = 63;

const tenantPattern = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;

/**
 * What is wrong with a tenant name, or undefined when it is valid. The
 * empty name is valid: it is the default tenant.
 */
export function tenantNameProblem(name: string): string | undefined {
  if (name === '') return undefined;
  if (name.length > tenantNameLengthMax) return `${JSON.stringify(name.slice(0, 20))}… is longer than ${tenantNameLengthMax} characters`;
  if (!tenantPattern.test(name)) {
    return `${JSON.stringify(name)} is not a tenant name: use letters, digits and - _ . , starting and ending with a letter or digit (e.g. "team-a")`;
  }
  return undefined;
}
