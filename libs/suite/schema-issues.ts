import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { Document } from 'yaml';
import { parseSelector, SelectorSyntaxError } from '../scheduling/label-selector';
import { tenantNameProblem } from '../scheduling/tenant-name';
import { deviceKindByName, deviceKindNames } from './device-kinds';
import type { SuiteIssue } from './suite-error';
import schema from './suite-schema.json';
import { parseDuration, parseSize, parseSizeRange, sizeRangeMistake } from './units';
import { splitPointer, type YamlLocator } from './yaml-locator';

/** Extra advice for fields people most often leave out. */
const requiredHints: Record<string, string> = {
  command: 'every task needs a command: a string run through sh -c, or a list of program and arguments',
  name: 'give it a name; it identifies the job or task in results',
  tasks: 'list the tasks to run under "tasks:"',
};

let compiled: ValidateFunction | undefined;

/** Compiled once, on first use: compiling costs far more than validating. */
function validator(): ValidateFunction {
  if (compiled) return compiled;
  const ajv = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true });
  ajv.addFormat('dtf-size', { type: 'string', validate: (s: string) => parseSize(s) !== undefined });
  ajv.addFormat('dtf-duration', { type: 'string', validate: (s: string) => parseDuration(s) !== undefined });
  ajv.addFormat('dtf-size-range', { type: 'string', validate: (s: string) => parseSizeRange(s) !== undefined });
  ajv.addFormat('dtf-device-kind', { type: 'string', validate: (s: string) => deviceKindByName(s) !== undefined });
  ajv.addFormat('dtf-selector', { type: 'string', validate: (s: string) => selectorError(s) === undefined });
  ajv.addFormat('dtf-tenant', { type: 'string', validate: (s: string) => tenantNameProblem(s) === undefined });
  compiled = ajv.compile(schema);
  return compiled;
}

/**
 * Validates plain suite data against `suite-schema.json` and turns each ajv
 * error into an issue that names the field, says what is wrong in words, and
 * says what to write instead.
 */
export function schemaIssues(data: unknown, doc: Document, locator: YamlLocator): SuiteIssue[] {
  const validate = validator();
  if (validate(data)) return [];
  const seen = new Set<string>();
  const issues: SuiteIssue[] = [];
  for (const error of validate.errors ?? []) {
    // propertyNames reports the failing name's own check too, and oneOf each branch's
    // failure; the propertyNames and oneOf errors say it better.
    if (error.schemaPath.includes('/propertyNames/') || error.schemaPath.includes('/oneOf/')) continue;
    const issue = toIssue(error, doc, locator);
    const key = `${issue.line}:${issue.column}:${issue.path}:${issue.message}`;
    if (!seen.has(key)) issues.push(issue);
    seen.add(key);
  }
  return issues;
}

function toIssue(error: ErrorObject, doc: Document, locator: YamlLocator): SuiteIssue {
  const path = splitPointer(doc, error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required': {
      const field = String(params.missingProperty);
      const hint = requiredHints[field] ? `; ${requiredHints[field]}` : '';
      return locator.issue(path, `missing required field "${field}"${hint}`);
    }
    case 'additionalProperties': {
      const field = String(params.additionalProperty);
      const known = Object.keys((error.parentSchema?.properties ?? {}) as object).join(', ');
      return locator.issue(path, `unknown field "${field}"; valid fields here: ${known}`, field);
    }
    case 'type':
      return locator.issue(path, `must be ${describeTypes(String(params.type))}, not ${describeValue(error.data)}`);
    case 'format':
      return locator.issue(path, formatMessage(String(params.format), error.data));
    case 'propertyNames': {
      const name = String(params.propertyName);
      return locator.issue(path, `matrix variable ${JSON.stringify(name)} must be a name of letters, digits and _ (it is used as {name})`, name);
    }
    case 'oneOf': {
      // Every oneOf in the schema is a choice of one required field: say which fields.
      const fields = (error.schema as { required?: string[] }[]).map((b) => `"${b.required?.[0] ?? '?'}"`);
      return locator.issue(path, `give exactly one of ${fields.join(' or ')}`);
    }
    case 'minimum':
      return locator.issue(path, `must be at least ${String(params.limit)}, not ${describeValue(error.data)}`);
    case 'maximum':
      return locator.issue(path, `must be at most ${String(params.limit)}, not ${describeValue(error.data)}`);
    case 'maxItems':
      return locator.issue(path, `must have at most ${String(params.limit)} items`);
    case 'minItems':
    case 'minLength':
      return locator.issue(path, Number(params.limit) === 1 ? 'must not be empty' : `must have at least ${String(params.limit)} ${error.keyword === 'minItems' ? 'items' : 'characters'}`);
    default:
      return locator.issue(path, error.message ?? 'is not valid');
  }
}

function formatMessage(format: string, value: unknown): string {
  const shown = JSON.stringify(value);
  if (format === 'dtf-size') return `${shown} is not a size; use e.g. "40GiB" (B, KiB, MiB, GiB, TiB, or KB, MB, GB, TB)`;
  if (format === 'dtf-duration') return `${shown} is not a duration; use e.g. "30s", "10m", "1h30m" or a number of seconds`;
  if (format === 'dtf-size-range') {
    const mistake = sizeRangeMistake(value);
    if (mistake) return `${shown} is an empty range: ${mistake}`;
    return `${shown} is not a size; use e.g. "40GiB" or ">=40GiB" (at least), "<=80GiB" (at most) or "40GiB..80GiB" (B, KiB, MiB, GiB, TiB, or KB, MB, GB, TB)`;
  }
  if (format === 'dtf-device-kind') return `${shown} is not a device kind; use one of ${deviceKindNames.join(', ')}`;
  if (format === 'dtf-selector') return selectorError(String(value)) ?? `${shown} is not a selector`;
  if (format === 'dtf-tenant') return tenantNameProblem(String(value)) ?? `${shown} is not a tenant name`;
  return `${shown} does not match format ${format}`;
}

/** The message of the selector's syntax error, or undefined when it parses. */
function selectorError(text: string): string | undefined {
  try {
    parseSelector(text);
    return undefined;
  } catch (e) {
    if (e instanceof SelectorSyntaxError) return e.message;
    throw e;
  }
}

const typeWords: Record<string, string> = {
  string: 'a string', number: 'a number', integer: 'an integer', boolean: 'true or false',
  array: 'a list', object: 'a mapping of keys to values', null: 'empty',
};

function describeTypes(types: string): string {
  return types.split(',').map((t) => typeWords[t] ?? t).join(' or ');
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}
