import { create } from '@bufbuild/protobuf';
import { MetricSchema, type Metric } from '../../libs/gen/dtf/common/v1/common_pb';

/** Metrics kept from one file; a result carries them all, so this bounds its size. */
export const metricsMax = 1_000;
/** Longest metric name or unit accepted, in characters. */
export const metricNameCharsMax = 256;

/**
 * Reads a task's metrics.json. Two shapes are accepted:
 *
 * - a list: `{"metrics": [{"name": "latency", "value": 1.5, "unit": "ms"}, …]}`
 * - a flat object: `{"latency_ms": 12.5, "throughput": {"value": 100, "unit": "items/s"}}`
 *
 * Throws an Error naming the offending key (`metrics[2].value: …`, `"throughput": …`) when
 * a value is not a finite number or a field has the wrong type, or when there are more than
 * {@link metricsMax} metrics: a benchmark that emits that many is almost certainly emitting
 * per-iteration samples, which belong in a summary.
 */
export function parseMetrics(json: string): Metric[] {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (err) {
    throw new Error(`not valid JSON: ${(err as Error).message}`);
  }
  if (!isRecord(doc)) {
    throw new Error(`expected a JSON object ({"metrics": [...]} or {"name": value, ...}), got ${typeName(doc)}`);
  }
  const metrics = Array.isArray(doc['metrics']) ? fromList(doc['metrics']) : fromFlat(doc);
  return metrics;
}

function fromList(list: unknown[]): Metric[] {
  checkCount(list.length);
  return list.map((item, i) => {
    const where = `metrics[${i}]`;
    if (!isRecord(item)) throw new Error(`${where}: expected {"name": string, "value": number, "unit"?: string}, got ${typeName(item)}`);
    const name = item['name'];
    if (typeof name !== 'string' || name === '') throw new Error(`${where}.name: expected a non-empty string, got ${typeName(name)}`);
    return metric(name, item['value'], item['unit'], `${where} (${JSON.stringify(name)})`);
  });
}

function fromFlat(doc: Record<string, unknown>): Metric[] {
  const entries = Object.entries(doc);
  checkCount(entries.length);
  return entries.map(([name, value]) => {
    const where = JSON.stringify(name);
    if (name === '') throw new Error(`"": a metric name must not be empty`);
    if (isRecord(value)) return metric(name, value['value'], value['unit'], where);
    if (typeof value !== 'number') {
      throw new Error(`${where}: expected a number or {"value": number, "unit": string}, got ${typeName(value)}`);
    }
    return metric(name, value, undefined, where);
  });
}

function metric(name: string, value: unknown, unit: unknown, where: string): Metric {
  if (name.length > metricNameCharsMax) throw new Error(`${where}: the name is longer than ${metricNameCharsMax} characters`);
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`${where}.value: expected a finite number, got ${typeof value === 'number' ? String(value) : typeName(value)}`);
  }
  if (unit !== undefined && typeof unit !== 'string') throw new Error(`${where}.unit: expected a string, got ${typeName(unit)}`);
  if (typeof unit === 'string' && unit.length > metricNameCharsMax) {
    throw new Error(`${where}.unit: longer than ${metricNameCharsMax} characters`);
  }
  return create(MetricSchema, { name, value, unit: unit ?? '' });
}

function checkCount(count: number): void {
  if (count > metricsMax) {
    throw new Error(`${count} metrics given; at most ${metricsMax} are accepted, so report summaries rather than every sample`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `a string (${JSON.stringify(value.slice(0, 40))})`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
