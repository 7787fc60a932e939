import type { DescMethod, DescService } from '@bufbuild/protobuf';
import type { MethodDefinition } from '@grpc/grpc-js';
import { fastToBinary } from './fast-binary';
import { fastFromBinary } from './fast-from-binary';

/** Largest message accepted or sent on any gRPC port. */
export const grpcMessageBytesMax = 4 * 1024 * 1024;
/**
 * Largest message a server sends, and a feed reader accepts. Bigger than the
 * request limit because one feed event carries a whole submitted job, and a
 * job that fit in a 4 MiB request grows by its task ids.
 */
export const grpcSendBytesMax = 64 * 1024 * 1024;

/** The gRPC path of a method: /package.Service/Method. */
export function grpcPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/**
 * A grpc-js method definition for a protobuf-es method descriptor, so one
 * set of generated types serves both grpc-js and Connect.
 */
export function grpcMethodDefinition(method: DescMethod): MethodDefinition<unknown, unknown> {
  const kind = method.methodKind;
  return {
    path: grpcPath(method),
    requestStream: kind === 'client_streaming' || kind === 'bidi_streaming',
    responseStream: kind === 'server_streaming' || kind === 'bidi_streaming',
    requestSerialize: (m: unknown) => asBuffer(fastToBinary(method.input, m as never)),
    requestDeserialize: (b: Buffer) => fastFromBinary(method.input, b),
    responseSerialize: (m: unknown) => asBuffer(fastToBinary(method.output, m as never)),
    responseDeserialize: (b: Buffer) => fastFromBinary(method.output, b),
    originalName: method.localName,
  };
}

/** The encoder usually returns a Buffer already; copy only when it does not. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** grpc-js service definition for a protobuf-es service descriptor. */
export function grpcServiceDefinition(service: DescService): Record<string, MethodDefinition<unknown, unknown>> {
  const def: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const m of service.methods) def[m.localName] = grpcMethodDefinition(m);
  return def;
}
