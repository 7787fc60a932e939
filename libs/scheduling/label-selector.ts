import { create } from '@bufbuild/protobuf';
import { LabelSelectorSchema, SelectorOperator, type LabelSelector } from '../gen/dtf/common/v1/common_pb';

/**
 * Label selectors in the Kubernetes set-based syntax, one condition per
 * selector:
 *
 *   os=linux   os==linux   os!=windows   gpu in (a100, h100)   zone notin (a, b)   fast-disk   !spot
 *
 * Keys are letters, digits and `- _ . /`, starting with a letter, digit or
 * `_`; values may hold anything but white space, commas and parentheses, so
 * {@link formatSelector} always writes text that {@link parseSelector}
 * reads back to the same selector.
 */

/** Longest key or value, in characters: the same bound a worker's `--label` has. */
export const selectorCharsMax = 256;
/** Most values an `in`/`notin` selector may list. */
export const selectorValuesMax = 64;
/** Most selectors one task may carry; each is checked against every candidate worker. */
export const selectorsPerTaskMax = 32;

const keyPattern = /^[A-Za-z0-9_][A-Za-z0-9_./-]*$/;
const valuePattern = /^[^\s,()]*$/;
const forms = 'write one of "key=value", "key!=value", "key in (v1, v2)", "key notin (v1, v2)", "key" (exists) or "!key" (does not exist)';

/** Why a text is not a selector; `message` reads `"gpu in a100" is not a selector: expected "key in (v1, v2)"`. */
export class SelectorSyntaxError extends Error {
  constructor(readonly text: string, readonly detail: string) {
    super(`${JSON.stringify(text)} is not a selector: ${detail}`);
    this.name = 'SelectorSyntaxError';
  }
}

/** Parses one selector; throws a {@link SelectorSyntaxError} saying what to write instead. */
export function parseSelector(text: string): LabelSelector {
  const fail = (detail: string): never => {
    throw new SelectorSyntaxError(text, detail);
  };
  const t = text.trim();
  if (t === '') fail(`it is empty; ${forms}`);
  if (t.replace(/\([^)]*\)/g, '').includes(',')) fail('one condition per selector; split it into one list item per condition');
  if (t.startsWith('!') && !t.startsWith('!=')) return selector(checkKey(t.slice(1).trim(), fail), SelectorOperator.DOES_NOT_EXIST, []);
  const key = /^[^\s=!(),]+/.exec(t)?.[0] ?? fail(`it does not start with a label key; ${forms}`);
  checkKey(key, fail);
  const rest = t.slice(key.length).trim();
  if (rest === '') return selector(key, SelectorOperator.EXISTS, []);
  const eq = /^(==|=|!=)(.*)$/s.exec(rest);
  if (eq) {
    const value = eq[2].trim();
    if (value.startsWith('(')) fail(`a list of values needs "in" or "notin": write "${key} ${eq[1] === '!=' ? 'notin' : 'in'} ${value}"`);
    checkValue(value, fail);
    return selector(key, eq[1] === '!=' ? SelectorOperator.NOT_EQUALS : SelectorOperator.EQUALS, [value]);
  }
  const set = /^(in|notin)(?=[\s(])\s*(.*)$/s.exec(rest);
  if (!set) return fail(forms);
  const [, op, list] = set;
  const m = /^\((.*)\)$/s.exec(list) ?? fail(`expected "key ${op} (v1, v2)"`);
  const values = m[1].split(',').map((v) => v.trim());
  if (values.length === 1 && values[0] === '') fail(`"${op}" needs at least one value, e.g. "${key} ${op} (a, b)"`);
  if (values.length > selectorValuesMax) fail(`${values.length} values; at most ${selectorValuesMax}`);
  for (const v of values) {
    if (v === '') fail(`an empty value in the list; remove the extra comma`);
    checkValue(v, fail);
  }
  return selector(key, op === 'in' ? SelectorOperator.IN : SelectorOperator.NOT_IN, values);
}

/** Writes a selector the way {@link parseSelector} reads it, e.g. `gpu in (a100, h100)`. */
export function formatSelector(sel: LabelSelector): string {
  switch (sel.operator) {
    case SelectorOperator.EQUALS: return `${sel.key}=${sel.values[0] ?? ''}`;
    case SelectorOperator.NOT_EQUALS: return `${sel.key}!=${sel.values[0] ?? ''}`;
    case SelectorOperator.IN: return `${sel.key} in (${sel.values.join(', ')})`;
    case SelectorOperator.NOT_IN: return `${sel.key} notin (${sel.values.join(', ')})`;
    case SelectorOperator.EXISTS: return sel.key;
    case SelectorOperator.DOES_NOT_EXIST: return `!${sel.key}`;
    default: return `${sel.key} <operator ${sel.operator}>`;
  }
}

/**
 * Whether a worker's labels satisfy the selector. The negative operators
 * (`!=`, `notin`, `!key`) hold for a worker without the label, as in
 * Kubernetes. A selector with no valid operator never matches.
 */
export function matchesSelector(sel: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, sel.key);
  const value = has ? labels[sel.key] : undefined;
  switch (sel.operator) {
    case SelectorOperator.EQUALS: return has && value === sel.values[0];
    case SelectorOperator.NOT_EQUALS: return !has || value !== sel.values[0];
    case SelectorOperator.IN: return has && sel.values.includes(value as string);
    case SelectorOperator.NOT_IN: return !has || !sel.values.includes(value as string);
    case SelectorOperator.EXISTS: return has;
    case SelectorOperator.DOES_NOT_EXIST: return !has;
    default: return false;
  }
}

/**
 * What is wrong with a selector that arrived as a message rather than as
 * text, one problem per entry, each starting with the field:
 * `values: "in" needs at least one value`. Empty when it is valid.
 */
export function selectorProblems(sel: LabelSelector): string[] {
  const p: string[] = [];
  if (!keyPattern.test(sel.key)) p.push(`key: ${JSON.stringify(sel.key)} ${keyRule}`);
  else if (sel.key.length > selectorCharsMax) p.push(`key: longer than ${selectorCharsMax} characters`);
  const n = sel.values.length;
  const name = operatorNames[sel.operator];
  switch (sel.operator) {
    case SelectorOperator.EQUALS:
    case SelectorOperator.NOT_EQUALS:
      if (n !== 1) p.push(`values: "${name}" needs exactly one value, has ${n}`);
      break;
    case SelectorOperator.IN:
    case SelectorOperator.NOT_IN:
      if (n === 0) p.push(`values: "${name}" needs at least one value`);
      if (n > selectorValuesMax) p.push(`values: ${n} values; at most ${selectorValuesMax}`);
      break;
    case SelectorOperator.EXISTS:
    case SelectorOperator.DOES_NOT_EXIST:
      if (n !== 0) p.push(`values: "${name}" takes no values, has ${n}`);
      break;
    default:
      p.push(`operator: ${sel.operator} is not a selector operator; use EQUALS, NOT_EQUALS, IN, NOT_IN, EXISTS or DOES_NOT_EXIST`);
  }
  sel.values.slice(0, selectorValuesMax + 1).forEach((v, i) => {
    if (!valuePattern.test(v)) p.push(`values[${i}]: ${JSON.stringify(v)} must not hold white space, commas or parentheses`);
    else if (v.length > selectorCharsMax) p.push(`values[${i}]: longer than ${selectorCharsMax} characters`);
    else if (v === '' && (sel.operator === SelectorOperator.IN || sel.operator === SelectorOperator.NOT_IN)) p.push(`values[${i}]: empty`);
  });
  return p;
}

const keyRule = 'is not a label key: use letters, digits and - _ . /, starting with a letter, digit or _';

const operatorNames: Partial<Record<SelectorOperator, string>> = {
  [SelectorOperator.EQUALS]: '=',
  [SelectorOperator.NOT_EQUALS]: '!=',
  [SelectorOperator.IN]: 'in',
  [SelectorOperator.NOT_IN]: 'notin',
  [SelectorOperator.EXISTS]: 'exists',
  [SelectorOperator.DOES_NOT_EXIST]: 'does not exist',
};

function selector(key: string, operator: SelectorOperator, values: string[]): LabelSelector {
  return create(LabelSelectorSchema, { key, operator, values });
}

function checkKey(key: string, fail: (detail: string) => never): string {
  if (!keyPattern.test(key)) fail(`${JSON.stringify(key)} ${keyRule}`);
  if (key.length > selectorCharsMax) fail(`the key is longer than ${selectorCharsMax} characters`);
  return key;
}

function checkValue(value: string, fail: (detail: string) => never): void {
  if (!valuePattern.test(value)) fail(`the value ${JSON.stringify(value)} must not hold white space, commas or parentheses`);
  if (value.length > selectorCharsMax) fail(`a value is longer than ${selectorCharsMax} characters`);
}
