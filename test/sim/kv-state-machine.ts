/**
 * The simulated workload's state machine: a map of registers. Commands are
 * small text records so that a transcript or a failure dump stays readable.
 */
import { EntryType, type Entry } from '../../libs/raft/types';

/** A write command: which client operation, which key, what value. */
export interface KvWrite {
  opId: number;
  key: string;
  value: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeWrite(w: KvWrite): Uint8Array {
  return encoder.encode(`${w.opId} ${w.key} ${w.value}`);
}

/** Every node applies the same entry data, shared by reference in the simulator: decode it once. */
const decoded = new WeakMap<Uint8Array, KvWrite>();

function decodeWrite(data: Uint8Array): KvWrite {
  let w = decoded.get(data);
  if (!w) {
    const [opId, key, value] = decoder.decode(data).split(' ');
    decoded.set(data, (w = { opId: Number(opId), key, value: Number(value) }));
  }
  return w;
}

/** Registers by key, rebuilt from a snapshot plus the applied log after it. */
export class KvStateMachine {
  values = new Map<string, number>();

  /** Applies one committed entry; returns the write it carried, if any. */
  apply(e: Entry): KvWrite | undefined {
    if (e.type !== EntryType.NORMAL || e.data.length === 0) return undefined;
    const w = decodeWrite(e.data);
    this.values.set(w.key, w.value);
    return w;
  }

  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify([...this.values]));
  }

  restore(data: Uint8Array): void {
    this.values = new Map(data.length > 0 ? (JSON.parse(decoder.decode(data)) as [string, number][]) : []);
  }
}
