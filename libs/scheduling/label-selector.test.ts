import { create } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { LabelSelectorSchema, SelectorOperator } from '../gen/dtf/common/v1/common_pb';
import { formatSelector, matchesSelector, parseSelector, selectorProblems, selectorValuesMax, SelectorSyntaxError } from './label-selector';

const seed = Number(process.env.FC_SEED ?? 424242);
const { EQUALS, NOT_EQUALS, IN, NOT_IN, EXISTS, DOES_NOT_EXIST } = SelectorOperator;

describe('parseSelector', () => {
  it.each([
    ['os=linux', 'os', EQUALS, ['linux'], 'os=linux'],
    ['os==linux', 'os', EQUALS, ['linux'], 'os=linux'],
    [' os = linux ', 'os', EQUALS, ['linux'], 'os=linux'],
    ['os!=windows', 'os', NOT_EQUALS, ['windows'], 'os!=windows'],
    ['gpu in (a100, h100)', 'gpu', IN, ['a100', 'h100'], 'gpu in (a100, h100)'],
    ['gpu in(a100,h100)', 'gpu', IN, ['a100', 'h100'], 'gpu in (a100, h100)'],
    ['zone notin (a,b)', 'zone', NOT_IN, ['a', 'b'], 'zone notin (a, b)'],
    ['fast-disk', 'fast-disk', EXISTS, [], 'fast-disk'],
    ['!spot', 'spot', DOES_NOT_EXIST, [], '!spot'],
    ['! spot', 'spot', DOES_NOT_EXIST, [], '!spot'],
    ['dtf.dev/pool=gpu-lab', 'dtf.dev/pool', EQUALS, ['gpu-lab'], 'dtf.dev/pool=gpu-lab'],
    ['driver=535.104:cuda12', 'driver', EQUALS, ['535.104:cuda12'], 'driver=535.104:cuda12'],
    ['empty=', 'empty', EQUALS, [''], 'empty='],
    ['in', 'in', EXISTS, [], 'in'],
  ])('reads %j', (text, key, operator, values, formatted) => {
    const sel = parseSelector(text);
    expect(sel).toMatchObject({ key, operator, values });
    expect(formatSelector(sel)).toBe(formatted);
  });

  it.each([
    ['gpu in a100', 'expected "key in (v1, v2)"'],
    ['gpu notin a100', 'expected "key notin (v1, v2)"'],
    ['gpu in ()', '"in" needs at least one value, e.g. "gpu in (a, b)"'],
    ['gpu in (a,,b)', 'an empty value in the list; remove the extra comma'],
    ['', 'it is empty'],
    ['   ', 'it is empty'],
    ['os=linux,zone=a', 'one condition per selector; split it into one list item per condition'],
    ['gpu type=t4', 'write one of "key=value", "key!=value"'],
    ['gpu ~ t4', 'write one of'],
    ['=linux', 'it does not start with a label key'],
    ['-os=linux', '"-os" is not a label key'],
    ['!', '"" is not a label key'],
    ['!os=linux', '"os=linux" is not a label key'],
    ['os=(linux)', 'a list of values needs "in" or "notin": write "os in (linux)"'],
    ['os!=(a, b)', 'write "os notin (a, b)"'],
    ['os=li nux', 'the value "li nux" must not hold white space'],
    ['gpu in (a b)', 'the value "a b" must not hold white space'],
    [`k in (${Array.from({ length: selectorValuesMax + 1 }, (_, i) => `v${i}`).join(',')})`, `${selectorValuesMax + 1} values; at most ${selectorValuesMax}`],
    [`${'k'.repeat(257)}=v`, 'the key is longer than 256 characters'],
  ])('refuses %j', (text, detail) => {
    let thrown: unknown;
    try {
      parseSelector(text);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(SelectorSyntaxError);
    expect((thrown as Error).message).toContain(`${JSON.stringify(text)} is not a selector: `);
    expect((thrown as Error).message).toContain(detail);
  });
});

describe('matchesSelector', () => {
  const labels = { os: 'linux', gpu: 'a100', spot: '', constructor: 'c' };
  it.each([
    ['os=linux', true], ['os=mac', false], ['arch=x86', false],
    ['os!=mac', true], ['os!=linux', false], ['arch!=x86', true],
    ['gpu in (a100, h100)', true], ['gpu in (t4)', false], ['zone in (a)', false],
    ['gpu notin (t4, v100)', true], ['gpu notin (a100)', false], ['zone notin (a)', true],
    ['gpu', true], ['zone', false], ['spot', true],
    ['!zone', true], ['!spot', false],
    // Labels are data, not object properties.
    ['toString', false], ['!hasOwnProperty', true], ['constructor=c', true],
  ])('%s on {os: linux, gpu: a100, spot: ""} is %s', (text, want) => {
    expect(matchesSelector(parseSelector(text), labels)).toBe(want);
  });

  it('never matches a selector without a valid operator', () => {
    expect(matchesSelector(create(LabelSelectorSchema, { key: 'os', values: ['linux'] }), { os: 'linux' })).toBe(false);
    expect(matchesSelector(create(LabelSelectorSchema, { key: 'os', operator: 99 as SelectorOperator }), { os: 'linux' })).toBe(false);
  });

  it('agrees with the set reading of each operator', () => {
    const word = fc.constantFrom('a', 'b', 'c');
    const selArb = fc.record({
      key: fc.constantFrom('k', 'j'),
      operator: fc.constantFrom(EQUALS, NOT_EQUALS, IN, NOT_IN, EXISTS, DOES_NOT_EXIST),
      values: fc.uniqueArray(word, { minLength: 1, maxLength: 3 }),
    });
    const labelsArb = fc.dictionary(fc.constantFrom('k', 'j'), word);
    fc.assert(fc.property(selArb, labelsArb, (s, l) => {
      const values = s.operator === EQUALS || s.operator === NOT_EQUALS ? s.values.slice(0, 1) : s.operator === EXISTS || s.operator === DOES_NOT_EXIST ? [] : s.values;
      const sel = create(LabelSelectorSchema, { ...s, values });
      const v: string | undefined = l[s.key];
      const inSet = v !== undefined && (values as string[]).includes(v);
      const want = {
        [EQUALS]: inSet, [IN]: inSet, [NOT_EQUALS]: !inSet, [NOT_IN]: !inSet,
        [EXISTS]: v !== undefined, [DOES_NOT_EXIST]: v === undefined,
      }[s.operator];
      expect(matchesSelector(sel, l)).toBe(want);
      // What formatSelector writes reads back to the same selector.
      expect(parseSelector(formatSelector(sel))).toEqual(sel);
      expect(selectorProblems(sel)).toEqual([]);
    }), { seed, numRuns: 500 });
  });
});

describe('selectorProblems', () => {
  const sel = (key: string, operator: SelectorOperator, values: string[] = []) => create(LabelSelectorSchema, { key, operator, values });
  it.each([
    [sel('gpu', IN), ['values: "in" needs at least one value']],
    [sel('gpu', NOT_IN), ['values: "notin" needs at least one value']],
    [sel('os', EQUALS), ['values: "=" needs exactly one value, has 0']],
    [sel('os', NOT_EQUALS, ['a', 'b']), ['values: "!=" needs exactly one value, has 2']],
    [sel('os', EXISTS, ['a']), ['values: "exists" takes no values, has 1']],
    [sel('os', SelectorOperator.UNSPECIFIED), ['operator: 0 is not a selector operator; use EQUALS, NOT_EQUALS, IN, NOT_IN, EXISTS or DOES_NOT_EXIST']],
    [sel('', EXISTS), ['key: "" is not a label key: use letters, digits and - _ . /, starting with a letter, digit or _']],
    [sel('gpu', IN, ['a', 'b c', '']), ['values[1]: "b c" must not hold white space, commas or parentheses', 'values[2]: empty']],
    [sel('gpu', IN, Array.from({ length: selectorValuesMax + 1 }, (_, i) => `v${i}`)), [`values: ${selectorValuesMax + 1} values; at most ${selectorValuesMax}`]],
    [sel('os', EQUALS, ['linux']), []],
  ])('%#', (s, want) => {
    expect(selectorProblems(s)).toEqual(want);
  });
});
