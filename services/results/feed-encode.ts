import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import {
  JobSchema, MetricSchema, RequirementsSchema, ResourceUsageSchema, RetryPolicySchema, TestCaseSchema,
  type AttemptKey, type AttemptResult, type Task, type TaskSpec,
} from '../../libs/gen/dtf/common/v1/common_pb';
import {
  EventSchema, JobFinishedSchema, type Event, type TailEventsResponse,
} from '../../libs/gen/dtf/result/v1/result_service_pb';
import { fastToBinary } from '../../libs/rpc/fast-binary';

/*
 * An encoder for the event feed's messages (`TailEventsResponse`), written
 * out by hand for the event kinds that make up nearly all of the feed: the
 * generic plan-driven encoder reads every field through one megamorphic
 * lookup and sizes every nested message in a pass of its own, and for the
 * feed that cost the coordinator about as much CPU as the collector spent
 * storing the events. This one writes each message in one pass, reserving
 * one byte for a nested message's length and moving the body in the rare
 * case it needs more.
 *
 * It produces exactly the bytes `toBinary` would (feed-encode.test.ts
 * compares them). Rare sub-messages (jobs, requirements, retry policies,
 * test cases, metrics, usage) and any event that carries unknown fields go
 * to the generic encoder.
 */

let buf = Buffer.allocUnsafe(1 << 16);
let pos = 0;

function ensure(extra: number): void {
  if (pos + extra <= buf.length) return;
  const grown = Buffer.allocUnsafe(Math.max(buf.length * 2, pos + extra));
  buf.copy(grown, 0, 0, pos);
  buf = grown;
}

function varint32(v: number): void {
  ensure(5);
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
}

function tag(field: number, wire: number): void {
  varint32((field << 3) | wire);
}

/** An int32 or enum: negative values take ten bytes, as two's complement in 64 bits. */
function int32(v: number): void {
  if (v >= 0) {
    varint32(v);
    return;
  }
  varint64(BigInt.asUintN(64, BigInt(v)));
}

function varint64(v: bigint): void {
  ensure(10);
  let n = Number(v);
  if (n >= 0 && n <= Number.MAX_SAFE_INTEGER) {
    while (n > 0x7f) {
      buf[pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    buf[pos++] = n;
    return;
  }
  let u = BigInt.asUintN(64, v);
  while (u > 0x7fn) {
    buf[pos++] = Number(u & 0x7fn) | 0x80;
    u >>= 7n;
  }
  buf[pos++] = Number(u);
}

function string(field: number, s: string): void {
  if (s === '') return;
  tag(field, 2);
  rawString(s);
}

function rawString(s: string): void {
  const n = s.length;
  ensure(5 + 3 * n);
  let ascii = true;
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) { ascii = false; break; }
  if (ascii) {
    varint32(n);
    for (let i = 0; i < n; i++) buf[pos++] = s.charCodeAt(i);
    return;
  }
  const len = Buffer.byteLength(s, 'utf8');
  varint32(len);
  pos += buf.write(s, pos, len, 'utf8');
}

function uint(field: number, v: number): void {
  if (v === 0) return;
  tag(field, 0);
  varint32(v >>> 0);
}

function int(field: number, v: number): void {
  if (v === 0) return;
  tag(field, 0);
  int32(v);
}

function long(field: number, v: bigint): void {
  if (v === 0n) return;
  tag(field, 0);
  varint64(v);
}

/** A nested message: tag, then its body written by `body`, then its length put in front. */
function nested(field: number, body: () => void): void {
  tag(field, 2);
  ensure(1);
  const lenAt = pos++;
  const start = pos;
  body();
  const len = pos - start;
  if (len < 0x80) {
    buf[lenAt] = len;
    return;
  }
  let extra = 0;
  for (let v = len >>> 7; v > 0; v >>>= 7) extra++;
  ensure(extra);
  buf.copy(buf, start + extra, start, pos);
  pos = lenAt;
  varint32(len);
  pos += len;
}

/** A sub-message through the generic encoder. */
function generic<D extends DescMessage>(field: number, schema: D, m: MessageShape<D>): void {
  const bytes = fastToBinary(schema, m);
  tag(field, 2);
  varint32(bytes.length);
  ensure(bytes.length);
  buf.set(bytes, pos);
  pos += bytes.length;
}

function hasUnknown(m: { $unknown?: unknown[] }): boolean {
  return m.$unknown !== undefined && m.$unknown.length > 0;
}

/** Encodes a feed message exactly as `toBinary(TailEventsResponseSchema, m)` would. */
export function encodeFeedMessage(m: TailEventsResponse): Uint8Array {
  pos = 0;
  for (const e of m.events) {
    if (hasUnknown(e) || !eventPlain(e)) generic(1, EventSchema, e);
    else nested(1, () => writeEvent(e));
  }
  if (hasUnknown(m)) {
    for (const u of m.$unknown!) {
      varint32((u.no << 3) | u.wireType);
      ensure(u.data.length);
      buf.set(u.data, pos);
      pos += u.data.length;
    }
  }
  return Buffer.from(buf.subarray(0, pos));
}

/** True when no message this encoder writes itself carries unknown fields. */
function eventPlain(e: Event): boolean {
  const k = e.kind;
  switch (k.case) {
    case 'jobSubmitted':
      return !hasUnknown(k.value) && k.value.tasks.every((t) => !hasUnknown(t) && (!t.spec || !hasUnknown(t.spec)) && (!t.result || resultPlain(t.result)));
    case 'attemptStarted':
      return !hasUnknown(k.value) && (!k.value.key || !hasUnknown(k.value.key));
    case 'attemptFinished':
      return !hasUnknown(k.value) && (!k.value.result || resultPlain(k.value.result));
    case 'taskFinished':
      return !hasUnknown(k.value);
    default:
      return true;
  }
}

function resultPlain(r: AttemptResult): boolean {
  return !hasUnknown(r) && (!r.key || !hasUnknown(r.key));
}

function writeEvent(e: Event): void {
  long(1, e.index);
  long(2, e.timeMs);
  const k = e.kind;
  switch (k.case) {
    case 'jobSubmitted': {
      const v = k.value;
      nested(3, () => {
        if (v.job) generic(1, JobSchema, v.job);
        for (const t of v.tasks) nested(2, () => writeTask(t));
      });
      break;
    }
    case 'attemptStarted': {
      const v = k.value;
      nested(4, () => {
        if (v.key) nested(1, () => writeKey(v.key!));
        string(2, v.jobId);
        string(3, v.workerId);
      });
      break;
    }
    case 'attemptFinished': {
      const v = k.value;
      nested(5, () => {
        string(1, v.jobId);
        if (v.result) nested(2, () => writeResult(v.result!));
      });
      break;
    }
    case 'taskFinished': {
      const v = k.value;
      nested(6, () => {
        string(1, v.taskId);
        string(2, v.jobId);
        int(3, v.state);
        uint(4, v.attempts);
      });
      break;
    }
    case 'jobFinished':
      generic(7, JobFinishedSchema, k.value);
      break;
    default:
      break;
  }
}

function writeKey(k: AttemptKey): void {
  string(1, k.taskId);
  uint(2, k.attempt);
}

function writeResult(r: AttemptResult): void {
  if (r.key) nested(1, () => writeKey(r.key!));
  int(2, r.outcome);
  int(3, r.exitCode);
  string(4, r.signal);
  long(5, r.startedAtMs);
  long(6, r.finishedAtMs);
  for (const tc of r.testCases) generic(7, TestCaseSchema, tc);
  for (const m of r.metrics) generic(8, MetricSchema, m);
  string(9, r.stdoutTail);
  string(10, r.stderrTail);
  string(11, r.error);
  if (r.usage) generic(12, ResourceUsageSchema, r.usage);
  string(13, r.workerId);
}

function writeTask(t: Task): void {
  string(1, t.id);
  string(2, t.jobId);
  if (t.spec) nested(3, () => writeSpec(t.spec!));
  int(4, t.state);
  uint(5, t.attempt);
  string(6, t.workerId);
  string(7, t.pendingReason);
  if (t.result) nested(8, () => writeResult(t.result!));
  long(9, t.createdAtMs);
  long(10, t.finishedAtMs);
  long(11, t.notBeforeMs);
  uint(12, t.predictedDurationMs);
  for (const w of t.warnings) { tag(13, 2); rawString(w); }
  for (const w of t.waitingOn) { tag(14, 2); rawString(w); }
}

/** Map entries always carry both key and value, even empty ones, as protobuf-es writes them. */
function stringMap(field: number, map: Record<string, string>): void {
  for (const key of Object.keys(map)) {
    const value = map[key];
    nested(field, () => {
      tag(1, 2);
      rawString(key);
      tag(2, 2);
      rawString(value);
    });
  }
}

function writeSpec(s: TaskSpec): void {
  string(1, s.name);
  for (const a of s.argv) { tag(2, 2); rawString(a); }
  string(3, s.shell);
  stringMap(4, s.env);
  string(5, s.workingDir);
  uint(6, s.timeoutMs);
  uint(7, s.retries);
  if (s.requirements) generic(8, RequirementsSchema, s.requirements);
  int(9, s.priority);
  stringMap(10, s.tags);
  for (const d of s.dependsOn) { tag(11, 2); rawString(d); }
  long(12, s.deadlineMs);
  if (s.retry) generic(13, RetryPolicySchema, s.retry);
  uint(14, s.expectedDurationMs);
}
