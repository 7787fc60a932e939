import { fromBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import {
  JobSchema, MetricSchema, RequirementsSchema, ResourceUsageSchema, RetryPolicySchema, TestCaseSchema,
  type AttemptKey, type AttemptResult, type Task, type TaskSpec,
} from '../../libs/gen/dtf/common/v1/common_pb';
import {
  EventSchema, JobFinishedSchema, type AttemptFinished, type AttemptStarted, type Event, type JobSubmitted,
  type TaskFinished,
} from '../../libs/gen/dtf/result/v1/result_service_pb';

/*
 * A decoder for the event feed's messages (`TailEventsResponse`), written
 * out by hand for the event kinds that make up nearly all of the feed.
 * protobuf-es's `fromBinary` builds every message through its reflection
 * API; for the feed that cost more CPU than storing the events in DuckDB.
 *
 * It returns exactly what `fromBinary` would (feed-decode.test.ts compares
 * the two): the same plain objects, defaults and `$typeName`s. Rarely seen
 * sub-messages (jobs, requirements, retry policies, test cases, metrics,
 * usage) are handed to `fromBinary`. Anything this decoder does not expect
 * — an unknown field, a field repeated where protobuf would merge, an
 * unexpected wire type — sends the whole event to `fromBinary` instead, so
 * the result never differs, only the speed.
 */

const wireVarint = 0;
const wireBit64 = 1;
const wireLen = 2;
const wireBit32 = 5;

/** Thrown inside the fast path when an event needs `fromBinary`; never escapes this module. */
class NeedsFullDecoder extends Error {}
const needsFull = new NeedsFullDecoder('feed event needs the full decoder');

/** A cursor over one buffer; `end` bounds the message being read. */
class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  uint32(): number {
    const b = this.buf;
    let x = b[this.pos++];
    if (x < 0x80) return x;
    x &= 0x7f;
    let shift = 7;
    for (;;) {
      const byte = b[this.pos++];
      if (shift < 32) x |= (byte & 0x7f) << shift;
      if (byte < 0x80) return x >>> 0;
      shift += 7;
      if (shift > 63) throw needsFull;
    }
  }

  int32(): number {
    return this.uint32() | 0;
  }

  /** A 64-bit varint as a bigint; values below 2^49 (times, indexes) take a number-only path. */
  uint64(): bigint {
    const b = this.buf;
    const start = this.pos;
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      const byte = b[this.pos++];
      n += (byte & 0x7f) * scale;
      if (byte < 0x80) return BigInt(n);
      scale *= 128;
    }
    this.pos = start;
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const byte = b[this.pos++];
      v |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return BigInt.asUintN(64, v);
      shift += 7n;
      if (shift > 63n) throw needsFull;
    }
  }

  int64(): bigint {
    return BigInt.asIntN(64, this.uint64());
  }

  string(): string {
    const len = this.uint32();
    const start = this.pos;
    const end = (this.pos += len);
    if (end > this.buf.length) throw needsFull;
    if (len <= 24) {
      const b = this.buf;
      let ascii = true;
      for (let i = start; i < end; i++) if (b[i] >= 0x80) { ascii = false; break; }
      if (ascii) return String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]);
    }
    return this.buf.toString('utf8', start, end);
  }

  /** The end position of a length-delimited field whose length comes next. */
  limit(): number {
    const len = this.uint32();
    const end = this.pos + len;
    if (end > this.buf.length) throw needsFull;
    return end;
  }

  /** A length-delimited sub-message decoded by protobuf-es. */
  full<D extends DescMessage>(schema: D): MessageShape<D> {
    const end = this.limit();
    const m = fromBinary(schema, this.buf.subarray(this.pos, end));
    this.pos = end;
    return m;
  }

  /** A map<string, string> entry, added to `map`. */
  stringMapEntry(map: Record<string, string>): void {
    const end = this.limit();
    let key = '';
    let value = '';
    while (this.pos < end) {
      const tag = this.uint32();
      if (tag === ((1 << 3) | wireLen)) key = this.string();
      else if (tag === ((2 << 3) | wireLen)) value = this.string();
      else throw needsFull;
    }
    map[key] = value;
  }
}

/** Decodes one `TailEventsResponse` and returns its events, as `fromBinary` would. */
export function decodeFeedMessage(bytes: Uint8Array): Event[] {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf);
  const events: Event[] = [];
  while (r.pos < buf.length) {
    const tag = r.uint32();
    if (tag !== ((1 << 3) | wireLen)) {
      // Not an event (a field this collector predates): skip it, as fromBinary keeps but we ignore it.
      skipField(r, tag & 7);
      continue;
    }
    const end = r.limit();
    const start = r.pos;
    let event: Event;
    try {
      event = readEvent(r, end);
    } catch (err) {
      if (err !== needsFull) throw err;
      event = fromBinary(EventSchema, buf.subarray(start, end));
    }
    r.pos = end;
    events.push(event);
  }
  return events;
}

function skipField(r: Reader, wire: number): void {
  switch (wire) {
    case wireVarint: r.uint64(); return;
    case wireBit64: r.pos += 8; return;
    case wireLen: r.pos = r.limit(); return;
    case wireBit32: r.pos += 4; return;
    default: throw new Error(`feed message: wire type ${wire} is not valid protobuf; the feed is corrupt`);
  }
}

function readEvent(r: Reader, end: number): Event {
  const e: Event = { $typeName: 'dtf.result.v1.Event', index: 0n, timeMs: 0n, kind: { case: undefined } };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | wireVarint: e.index = r.uint64(); break;
      case (2 << 3) | wireVarint: e.timeMs = r.int64(); break;
      case (3 << 3) | wireLen: setKind(e, { case: 'jobSubmitted', value: readJobSubmitted(r, r.limit()) }); break;
      case (4 << 3) | wireLen: setKind(e, { case: 'attemptStarted', value: readAttemptStarted(r, r.limit()) }); break;
      case (5 << 3) | wireLen: setKind(e, { case: 'attemptFinished', value: readAttemptFinished(r, r.limit()) }); break;
      case (6 << 3) | wireLen: setKind(e, { case: 'taskFinished', value: readTaskFinished(r, r.limit()) }); break;
      case (7 << 3) | wireLen: setKind(e, { case: 'jobFinished', value: r.full(JobFinishedSchema) }); break;
      default: throw needsFull;
    }
  }
  if (r.pos !== end) throw needsFull;
  return e;
}

/** A oneof set twice would merge in protobuf; leave that to the full decoder. */
function setKind(e: Event, kind: Event['kind']): void {
  if (e.kind.case !== undefined) throw needsFull;
  e.kind = kind;
}

function readJobSubmitted(r: Reader, end: number): JobSubmitted {
  const m: JobSubmitted = { $typeName: 'dtf.result.v1.JobSubmitted', job: undefined, tasks: [] };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | wireLen) && m.job === undefined) m.job = r.full(JobSchema);
    else if (tag === ((2 << 3) | wireLen)) m.tasks.push(readTask(r, r.limit()));
    else throw needsFull;
  }
  return m;
}

function readAttemptStarted(r: Reader, end: number): AttemptStarted {
  const m: AttemptStarted = { $typeName: 'dtf.result.v1.AttemptStarted', key: undefined, jobId: '', workerId: '' };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | wireLen) && m.key === undefined) m.key = readAttemptKey(r, r.limit());
    else if (tag === ((2 << 3) | wireLen)) m.jobId = r.string();
    else if (tag === ((3 << 3) | wireLen)) m.workerId = r.string();
    else throw needsFull;
  }
  return m;
}

function readAttemptFinished(r: Reader, end: number): AttemptFinished {
  const m: AttemptFinished = { $typeName: 'dtf.result.v1.AttemptFinished', jobId: '', result: undefined };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | wireLen)) m.jobId = r.string();
    else if (tag === ((2 << 3) | wireLen) && m.result === undefined) m.result = readAttemptResult(r, r.limit());
    else throw needsFull;
  }
  return m;
}

function readTaskFinished(r: Reader, end: number): TaskFinished {
  const m: TaskFinished = { $typeName: 'dtf.result.v1.TaskFinished', taskId: '', jobId: '', state: 0, attempts: 0 };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | wireLen)) m.taskId = r.string();
    else if (tag === ((2 << 3) | wireLen)) m.jobId = r.string();
    else if (tag === ((3 << 3) | wireVarint)) m.state = r.int32();
    else if (tag === ((4 << 3) | wireVarint)) m.attempts = r.uint32();
    else throw needsFull;
  }
  return m;
}

function readAttemptKey(r: Reader, end: number): AttemptKey {
  const m: AttemptKey = { $typeName: 'dtf.common.v1.AttemptKey', taskId: '', attempt: 0 };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | wireLen)) m.taskId = r.string();
    else if (tag === ((2 << 3) | wireVarint)) m.attempt = r.uint32();
    else throw needsFull;
  }
  return m;
}

function readAttemptResult(r: Reader, end: number): AttemptResult {
  const m: AttemptResult = {
    $typeName: 'dtf.common.v1.AttemptResult', key: undefined, outcome: 0, exitCode: 0, signal: '', startedAtMs: 0n,
    finishedAtMs: 0n, testCases: [], metrics: [], stdoutTail: '', stderrTail: '', error: '', usage: undefined, workerId: '',
  };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | wireLen: if (m.key) throw needsFull; m.key = readAttemptKey(r, r.limit()); break;
      case (2 << 3) | wireVarint: m.outcome = r.int32(); break;
      case (3 << 3) | wireVarint: m.exitCode = r.int32(); break;
      case (4 << 3) | wireLen: m.signal = r.string(); break;
      case (5 << 3) | wireVarint: m.startedAtMs = r.int64(); break;
      case (6 << 3) | wireVarint: m.finishedAtMs = r.int64(); break;
      case (7 << 3) | wireLen: m.testCases.push(r.full(TestCaseSchema)); break;
      case (8 << 3) | wireLen: m.metrics.push(r.full(MetricSchema)); break;
      case (9 << 3) | wireLen: m.stdoutTail = r.string(); break;
      case (10 << 3) | wireLen: m.stderrTail = r.string(); break;
      case (11 << 3) | wireLen: m.error = r.string(); break;
      case (12 << 3) | wireLen: if (m.usage) throw needsFull; m.usage = r.full(ResourceUsageSchema); break;
      case (13 << 3) | wireLen: m.workerId = r.string(); break;
      default: throw needsFull;
    }
  }
  return m;
}

function readTask(r: Reader, end: number): Task {
  const m: Task = {
    $typeName: 'dtf.common.v1.Task', id: '', jobId: '', spec: undefined, state: 0, attempt: 0, workerId: '',
    pendingReason: '', result: undefined, createdAtMs: 0n, finishedAtMs: 0n, notBeforeMs: 0n, predictedDurationMs: 0,
    warnings: [], waitingOn: [],
  };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | wireLen: m.id = r.string(); break;
      case (2 << 3) | wireLen: m.jobId = r.string(); break;
      case (3 << 3) | wireLen: if (m.spec) throw needsFull; m.spec = readTaskSpec(r, r.limit()); break;
      case (4 << 3) | wireVarint: m.state = r.int32(); break;
      case (5 << 3) | wireVarint: m.attempt = r.uint32(); break;
      case (6 << 3) | wireLen: m.workerId = r.string(); break;
      case (7 << 3) | wireLen: m.pendingReason = r.string(); break;
      case (8 << 3) | wireLen: if (m.result) throw needsFull; m.result = readAttemptResult(r, r.limit()); break;
      case (9 << 3) | wireVarint: m.createdAtMs = r.int64(); break;
      case (10 << 3) | wireVarint: m.finishedAtMs = r.int64(); break;
      case (11 << 3) | wireVarint: m.notBeforeMs = r.int64(); break;
      case (12 << 3) | wireVarint: m.predictedDurationMs = r.uint32(); break;
      case (13 << 3) | wireLen: m.warnings.push(r.string()); break;
      case (14 << 3) | wireLen: m.waitingOn.push(r.string()); break;
      default: throw needsFull;
    }
  }
  return m;
}

function readTaskSpec(r: Reader, end: number): TaskSpec {
  const m: TaskSpec = {
    $typeName: 'dtf.common.v1.TaskSpec', name: '', argv: [], shell: '', env: {}, workingDir: '', timeoutMs: 0, retries: 0,
    requirements: undefined, priority: 0, tags: {}, dependsOn: [], deadlineMs: 0n, retry: undefined, expectedDurationMs: 0,
  };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | wireLen: m.name = r.string(); break;
      case (2 << 3) | wireLen: m.argv.push(r.string()); break;
      case (3 << 3) | wireLen: m.shell = r.string(); break;
      case (4 << 3) | wireLen: r.stringMapEntry(m.env); break;
      case (5 << 3) | wireLen: m.workingDir = r.string(); break;
      case (6 << 3) | wireVarint: m.timeoutMs = r.uint32(); break;
      case (7 << 3) | wireVarint: m.retries = r.uint32(); break;
      case (8 << 3) | wireLen: if (m.requirements) throw needsFull; m.requirements = r.full(RequirementsSchema); break;
      case (9 << 3) | wireVarint: m.priority = r.int32(); break;
      case (10 << 3) | wireLen: r.stringMapEntry(m.tags); break;
      case (11 << 3) | wireLen: m.dependsOn.push(r.string()); break;
      case (12 << 3) | wireVarint: m.deadlineMs = r.int64(); break;
      case (13 << 3) | wireLen: if (m.retry) throw needsFull; m.retry = r.full(RetryPolicySchema); break;
      case (14 << 3) | wireVarint: m.expectedDurationMs = r.uint32(); break;
      default: throw needsFull;
    }
  }
  return m;
}
