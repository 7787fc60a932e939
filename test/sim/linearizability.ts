/**
 * A linearizability checker for register histories, after Wing & Gong with
 * the memoisation of Lowe and porcupine: search for an order of the
 * operations that respects real time and the register's semantics, caching
 * (linearized set, state) pairs already explored. Histories are split per key
 * first, since a key-value store is linearizable iff every key is.
 */

/** One client operation; an unknown outcome has `ret` = Infinity. */
export interface Operation {
  client: number;
  key: string;
  kind: 'read' | 'write';
  /** The value written, or the value the read returned. */
  value: number | null;
  call: number;
  ret: number;
}

interface Event {
  op: number;
  isCall: boolean;
  time: number;
  prev: Event | undefined;
  next: Event | undefined;
  match: Event | undefined;
}

/** Register semantics: a read must return the last written value. */
function step(state: number | null, op: Operation): [boolean, number | null] {
  if (op.kind === 'write') return [true, op.value];
  return [op.value === state, state];
}

function buildEvents(ops: Operation[]): Event {
  const events: Event[] = [];
  ops.forEach((o, i) => {
    const call: Event = { op: i, isCall: true, time: o.call, prev: undefined, next: undefined, match: undefined };
    const ret: Event = { op: i, isCall: false, time: o.ret, prev: undefined, next: undefined, match: undefined };
    call.match = ret;
    events.push(call, ret);
  });
  // At equal times calls sort first: treating such operations as concurrent
  // can only make the checker more lenient, never report a false violation.
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? 0 : a.isCall ? -1 : 1));
  const head: Event = { op: -1, isCall: false, time: -Infinity, prev: undefined, next: undefined, match: undefined };
  let prev = head;
  for (const e of events) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }
  return head;
}

function lift(call: Event): void {
  call.prev!.next = call.next;
  if (call.next) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

function unlift(call: Event): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next) call.next.prev = call;
}

/** True when the operations on one key are linearizable (initial value null). */
export function isLinearizableRegister(all: Operation[], stepsMax = 1_000_000): boolean {
  const ops = withoutUnobservedUnknownWrites(all);
  const head = buildEvents(ops);
  const cache = new Set<string>();
  const stack: { call: Event; state: number | null }[] = [];
  let linearized = 0n;
  let state: number | null = null;
  let entry = head.next;
  let steps = 0;
  while (head.next !== undefined) {
    if (++steps > stepsMax) throw new Error(`linearizability: search exceeded ${stepsMax} steps`);
    if (entry === undefined) return false;
    if (entry.isCall) {
      const [ok, next] = step(state, ops[entry.op]);
      if (ok) {
        const bits = linearized | (1n << BigInt(entry.op));
        const key = `${bits.toString(36)}:${next}`;
        if (!cache.has(key)) {
          cache.add(key);
          stack.push({ call: entry, state });
          state = next;
          linearized = bits;
          lift(entry);
          entry = head.next;
          continue;
        }
      }
      entry = entry.next;
    } else {
      // A return whose call is not yet linearized: this path is a dead end.
      const top = stack.pop();
      if (!top) return false;
      state = top.state;
      linearized &= ~(1n << BigInt(top.call.op));
      unlift(top.call);
      entry = top.call.next;
    }
  }
  return true;
}

/**
 * Drops unknown-outcome writes whose value no read returned. Such a write may
 * always be linearized last (it never returned, so nothing follows it in real
 * time), and in any legal order no read sits between it and the next write
 * (no read returned its value), so the history is linearizable with it iff
 * it is without it. Lost writes pile up under partitions; each one left in
 * could double the states the search visits.
 */
function withoutUnobservedUnknownWrites(ops: Operation[]): Operation[] {
  const read = new Set<number | null>();
  for (const o of ops) if (o.kind === 'read') read.add(o.value);
  return ops.filter((o) => o.kind === 'read' || o.ret !== Infinity || read.has(o.value));
}

/** Checks a key-value history key by key; returns the first bad key, if any. */
export function checkKv(ops: Operation[]): { ok: true } | { ok: false; key: string; ops: Operation[] } {
  const byKey = new Map<string, Operation[]>();
  for (const o of ops) {
    let list = byKey.get(o.key);
    if (!list) byKey.set(o.key, (list = []));
    list.push(o);
  }
  for (const [key, list] of byKey) {
    if (!isLinearizableRegister(list)) return { ok: false, key, ops: list };
  }
  return { ok: true };
}
