import { toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { isCovered } from './codec/coverage';
import { encoderSource } from './codec/encoder-source';
import { compile } from './codec/source';
import { writeRuntime } from './codec/write-runtime';

/*
 * protobuf-es's `toBinary` walks every message through its reflection API
 * (a wrapper object, a presence check and a field lookup per field) and
 * builds the output from many small chunks. On the coordinator's hot path
 * (worker streams, the event feed, the log) that was about a fifth of the
 * CPU. This encoder produces the same bytes (checked against `toBinary` in
 * the tests, also on random messages of every type we define) from code
 * generated once per message type: plain property reads, one pass to size
 * the message, one to write it into a single buffer.
 */

type Encode = (message: unknown) => Buffer;

/** Encoders by message type; null marks a type that `toBinary` must encode. */
const encoders = new WeakMap<DescMessage, Encode | null>();

/**
 * Encodes `message` exactly as `toBinary(schema, message)` would. Message
 * types the generated encoders do not cover (see `isCovered`) go to `toBinary`.
 * Unlike `toBinary` it does not range-check 64-bit values.
 */
export function fastToBinary<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): Uint8Array {
  let encode = encoders.get(schema);
  if (encode === undefined) {
    encode = isCovered(schema) ? compile<Encode>(encoderSource(schema), writeRuntime) : null;
    encoders.set(schema, encode);
  }
  return encode ? encode(message) : toBinary(schema, message);
}
