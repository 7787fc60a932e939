import { parseLabels } from './parse-labels';

describe('parseLabels', () => {
  it('parses key=value pairs, keeping "=" inside values', () => {
    expect(parseLabels(['os=linux', 'pool = gpu-lab', 'expr=a=b', 'empty='])).toEqual({
      os: 'linux',
      pool: 'gpu-lab',
      expr: 'a=b',
      empty: '',
    });
  });

  it('returns an empty map for no flags', () => {
    expect(parseLabels([])).toEqual({});
  });

  it('rejects a value without "=" with a clear message', () => {
    expect(() => parseLabels(['foo'])).toThrow('--label "foo": expected key=value');
  });

  it('rejects an empty key', () => {
    expect(() => parseLabels(['=x'])).toThrow('--label "=x": the key is empty');
  });

  it('rejects a duplicated key', () => {
    expect(() => parseLabels(['a=1', 'a=2'])).toThrow('key "a" is given twice');
  });

  it('does not treat prototype keys as duplicates', () => {
    expect(parseLabels(['constructor=x'])).toEqual({ constructor: 'x' });
  });

  it('bounds the key and value length', () => {
    expect(() => parseLabels([`k=${'v'.repeat(300)}`])).toThrow('at most 256 characters');
  });
});

describe('parseLabels with odd keys', () => {
  it('stores "__proto__" as an ordinary key', () => {
    const labels = parseLabels(['__proto__=x']);
    expect(Object.keys(labels)).toEqual(['__proto__']);
    expect(labels['__proto__']).toBe('x');
  });
});
