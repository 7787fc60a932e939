import { parseMetrics } from './parse-metrics';

const plain = (json: string) => parseMetrics(json).map((m) => [m.name, m.value, m.unit]);

describe('parseMetrics', () => {
  it('reads the list shape', () => {
    expect(plain('{"metrics":[{"name":"x","value":1.5,"unit":"ms"},{"name":"y","value":-2}]}')).toEqual([
      ['x', 1.5, 'ms'],
      ['y', -2, ''],
    ]);
  });

  it('reads the flat shape, with bare numbers and {value, unit} objects', () => {
    expect(plain('{"latency_ms": 12.5, "throughput": {"value": 100, "unit": "items/s"}}')).toEqual([
      ['latency_ms', 12.5, ''],
      ['throughput', 100, 'items/s'],
    ]);
  });

  it('treats a numeric "metrics" key as a flat metric', () => {
    expect(plain('{"metrics": 3}')).toEqual([['metrics', 3, '']]);
  });

  it('returns nothing for an empty object or list', () => {
    expect(parseMetrics('{}')).toEqual([]);
    expect(parseMetrics('{"metrics": []}')).toEqual([]);
  });

  it('names the key whose value is wrong', () => {
    expect(() => parseMetrics('{"latency_ms": "fast"}')).toThrow('"latency_ms": expected a number or {"value": number, "unit": string}, got a string ("fast")');
    expect(() => parseMetrics('{"throughput": {"value": "1"}}')).toThrow('"throughput".value: expected a finite number');
    expect(() => parseMetrics('{"big": 1e400}')).toThrow('"big".value: expected a finite number, got Infinity');
    expect(() => parseMetrics('{"metrics":[{"name":"x","value":1},{"name":"y","value":null}]}')).toThrow('metrics[1] ("y").value: expected a finite number, got null');
    expect(() => parseMetrics('{"metrics":[{"value":1}]}')).toThrow('metrics[0].name: expected a non-empty string');
    expect(() => parseMetrics('{"metrics":[7]}')).toThrow('metrics[0]: expected {"name"');
    expect(() => parseMetrics('{"x": {"value": 1, "unit": 5}}')).toThrow('"x".unit: expected a string, got a number');
  });

  it('rejects what is not a JSON object', () => {
    expect(() => parseMetrics('{"a": 1')).toThrow('not valid JSON');
    expect(() => parseMetrics('[1, 2]')).toThrow('expected a JSON object');
  });

  it('bounds the number of metrics', () => {
    const many = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`m${i}`, i]));
    expect(() => parseMetrics(JSON.stringify(many))).toThrow('1001 metrics given; at most 1000');
    const list = { metrics: Array.from({ length: 1000 }, (_, i) => ({ name: `m${i}`, value: i })) };
    expect(parseMetrics(JSON.stringify(list))).toHaveLength(1000);
  });
});
