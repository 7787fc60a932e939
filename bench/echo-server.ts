/**
 * Child process: the far end of the `limit` scenario. It echoes every message
 * back on two stacks: a grpc-js bidi method with raw-bytes (de)serializers,
 * the stack DTF's worker streams use, and a plain TCP socket speaking 4-byte
 * big-endian length-prefixed frames. It sends `ready` with both ports.
 */
import * as grpc from '@grpc/grpc-js';
import * as net from 'node:net';
import { tellParent } from './child';

/** The echo method both sides agree on. */
export const echoMethodPath = '/dtf.bench.v1.Echo/Echo';
/** Frames larger than this are a protocol error, not a message. */
export const echoFrameBytesMax = 1 << 20;

const identity = (b: Buffer) => b;

function serveGrpc(): Promise<number> {
  const server = new grpc.Server();
  const definition: grpc.ServiceDefinition = {
    Echo: { path: echoMethodPath, requestStream: true, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity, originalName: 'echo' },
  };
  server.addService(definition, {
    Echo: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (m: Buffer) => call.write(m));
      call.on('end', () => call.end());
      call.on('error', () => {});
    },
  });
  return new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))));
}

/** Echoes whole frames; what one read delivered goes back in one write. */
function serveSocket(): Promise<number> {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    let buffered: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      let end = 0;
      while (buffered.length - end >= 4) {
        const len = buffered.readUInt32BE(end);
        if (len > echoFrameBytesMax) return socket.destroy(new Error(`frame of ${len} bytes`));
        if (buffered.length - end - 4 < len) break;
        end += 4 + len;
      }
      if (end > 0) socket.write(buffered.subarray(0, end));
      buffered = buffered.subarray(end);
    });
    socket.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

async function main(): Promise<void> {
  const [grpcPort, socketPort] = await Promise.all([serveGrpc(), serveSocket()]);
  process.on('SIGTERM', () => process.exit(0));
  tellParent({ type: 'ready', grpcPort, socketPort });
}

if (require.main === module) {
  main().catch((e: Error) => {
    tellParent({ type: 'error', message: e.message });
    process.exit(1);
  });
}
