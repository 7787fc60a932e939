import { create, toBinary } from '@bufbuild/protobuf';
import { AttemptOutcome } from '../../libs/gen/dtf/common/v1/common_pb';
import { ConnectRequestSchema } from '../../libs/gen/dtf/worker/v1/worker_service_pb';
import { BenchChild } from '../child';
import { measureDtfThroughput } from '../dtf-throughput';
import { grpcEchoRate, socketEchoRate, type EchoTiming } from '../echo-rate';
import type { Measure, Scenario } from '../scenario';
import { pairwiseRatio } from '../stats';
import { dtfThroughputKey, throughputLoad } from './throughput';

/** Streams on the one gRPC connection, as many as `throughput` has workers. */
export const echoStreams = 100;

/**
 * The size of message the worker stream carries most: one Results message
 * with one no-op result, encoded as DTF encodes it.
 */
export function workerMessageSample(): Buffer {
  const msg = create(ConnectRequestSchema, {
    msg: {
      case: 'results',
      value: {
        results: [{
          key: { taskId: 'job-0123456789ab.1000', attempt: 1 }, outcome: AttemptOutcome.SUCCEEDED,
          startedAtMs: BigInt(Date.now()), finishedAtMs: BigInt(Date.now()), workerId: 'sim-100',
        }],
      },
    },
  });
  return Buffer.from(toBinary(ConnectRequestSchema, msg));
}

export const limit: Scenario = {
  name: 'limit',
  summary: "throughput's tasks/s as a fraction of the raw message rate of grpc-js bidi echo and of a length-prefixed socket echo, between two processes",
  async run(ctx) {
    const timing: EchoTiming = ctx.smoke ? { warmupMs: 200, measureMs: 500 } : { warmupMs: 500, measureMs: 3000 };
    const streams = ctx.smoke ? 20 : echoStreams;
    const reused = ctx.shared.get(dtfThroughputKey);
    const progress = ctx.progress((reused ? 0 : ctx.reps) + 2 * ctx.reps);
    const dtf: Measure = reused ?? { label: 'DTF end to end', unit: 'tasks/s', samples: [] };
    const load = throughputLoad(ctx.smoke);
    const payload = workerMessageSample();
    const grpcM: Measure = { label: `grpc-js bidi echo, ${streams} streams`, unit: 'msgs/s', samples: [] };
    const socketM: Measure = { label: `framed socket echo, ${streams} in flight`, unit: 'msgs/s', samples: [] };
    const { child, ready } = await BenchChild.start('echo-server.ts', []);
    try {
      for (let rep = 1; rep <= ctx.reps; rep++) {
        if (!reused) {
          dtf.samples.push(await measureDtfThroughput(load, (n) => progress.note(`DTF ${rep}/${ctx.reps}: ${n}/${load.tasks}`)));
          progress.step(`DTF ${rep}/${ctx.reps}: ${Math.round(dtf.samples[rep - 1])} tasks/s`);
        }
        grpcM.samples.push(await grpcEchoRate(Number(ready.grpcPort), streams, payload, timing));
        progress.step(`grpc-js echo ${rep}/${ctx.reps}: ${Math.round(grpcM.samples[rep - 1])} msgs/s`);
        socketM.samples.push(await socketEchoRate(Number(ready.socketPort), streams, payload, timing));
        progress.step(`socket echo ${rep}/${ctx.reps}: ${Math.round(socketM.samples[rep - 1])} msgs/s`);
      }
    } finally {
      await child.stop();
      progress.finish();
    }
    return {
      status: 'ok',
      figures: [
        { name: 'DTF tasks/s ÷ grpc-js echo msgs/s', ratios: pairwiseRatio(dtf.samples, grpcM.samples), subject: dtf, baseline: grpcM },
        { name: 'DTF tasks/s ÷ socket echo msgs/s', ratios: pairwiseRatio(dtf.samples, socketM.samples), subject: dtf, baseline: socketM },
      ],
      notes: [
        `DTF rate ${reused ? "reused from this run's throughput scenario" : `measured here (${load.tasks} tasks, ${load.workers} workers)`}`,
        `echo payload ${payload.length} bytes (one Results message with one result); ${timing.measureMs} ms per measurement after ${timing.warmupMs} ms warm-up`,
      ],
    };
  },
};
