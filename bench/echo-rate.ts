import * as grpc from '@grpc/grpc-js';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { echoMethodPath } from './echo-server';

/** How long an echo run measures, after its warm-up. */
export interface EchoTiming {
  warmupMs: number;
  measureMs: number;
}

const identity = (b: Buffer) => b;

/**
 * Counts messages echoed per second over `streams` grpc-js bidi streams on
 * one connection, each keeping one message in flight, as a worker stream
 * answers one push with one reply.
 */
export async function grpcEchoRate(port: number, streams: number, payload: Buffer, timing: EchoTiming): Promise<number> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  let counting = false;
  let stopped = false;
  let count = 0;
  const calls = Array.from({ length: streams }, () => {
    const call = client.makeBidiStreamRequest<Buffer, Buffer>(echoMethodPath, identity, identity);
    call.on('data', () => {
      if (counting) count++;
      if (!stopped) call.write(payload);
    });
    call.on('error', () => {});
    call.write(payload);
    return call;
  });
  const rate = await measure(timing, (on) => { counting = on; if (on) count = 0; }, () => count);
  stopped = true;
  for (const c of calls) c.end();
  client.close();
  return rate;
}

/**
 * Counts frames echoed per second over one TCP connection with `inFlight`
 * 4-byte length-prefixed frames outstanding; replies read in one chunk are
 * answered with one write, as any framed protocol would batch them.
 */
export async function socketEchoRate(port: number, inFlight: number, payload: Buffer, timing: EchoTiming): Promise<number> {
  const frame = Buffer.alloc(4 + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  payload.copy(frame, 4);
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let counting = false;
  let stopped = false;
  let count = 0;
  let partial = 0;
  socket.on('data', (chunk: Buffer) => {
    // Every frame has the same size, so counting bytes counts frames.
    const bytes = partial + chunk.length;
    const frames = Math.floor(bytes / frame.length);
    partial = bytes - frames * frame.length;
    if (counting) count += frames;
    if (!stopped && frames > 0) socket.write(frames === 1 ? frame : Buffer.concat(Array.from({ length: frames }, () => frame)));
  });
  socket.on('error', () => {});
  socket.write(Buffer.concat(Array.from({ length: inFlight }, () => frame)));
  const rate = await measure(timing, (on) => { counting = on; if (on) count = 0; }, () => count);
  stopped = true;
  socket.destroy();
  return rate;
}

async function measure(timing: EchoTiming, setCounting: (on: boolean) => void, counted: () => number): Promise<number> {
  await sleep(timing.warmupMs);
  setCounting(true);
  const t0 = performance.now();
  await sleep(timing.measureMs);
  const n = counted();
  const elapsedMs = performance.now() - t0;
  setCounting(false);
  return (n / elapsedMs) * 1000;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
