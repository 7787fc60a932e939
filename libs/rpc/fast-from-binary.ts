import { fromBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { isCovered } from './codec/coverage';
import { decoderSource } from './codec/decoder-source';
import { compile } from './codec/source';
import { WireReader, hostIsLittleEndian } from './codec/wire-reader';

/*
 * protobuf-es's `fromBinary` decodes through its reflection API: a zero
 * message built member by member, a map lookup per field number, a setter
 * with checks per value, a tuple per tag. This decoder builds the same
 * messages (checked against `fromBinary` in the tests, on random messages of
 * every type we define and on malformed input) with code generated once per
 * message type: a switch on the field number and plain property writes.
 */

type Decode = (bytes: Uint8Array) => unknown;

/** Decoders by message type; null marks a type that `fromBinary` must decode. */
const decoders = new WeakMap<DescMessage, Decode | null>();

/**
 * Decodes `bytes` exactly as `fromBinary(schema, bytes)` would (default
 * options: unknown fields kept), and throws where it throws. Message types the
 * generated decoders do not cover (see `isCovered`) go to `fromBinary`.
 */
export function fastFromBinary<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array): MessageShape<Desc> {
  let decode = decoders.get(schema);
  if (decode === undefined) {
    decode = hostIsLittleEndian && isCovered(schema) ? compile<Decode>(decoderSource(schema), { WireReader }) : null;
    decoders.set(schema, decode);
  }
  return (decode ? decode(bytes) : fromBinary(schema, bytes)) as MessageShape<Desc>;
}
