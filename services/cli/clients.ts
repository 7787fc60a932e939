import { createClient, type Client } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { RegistryService } from '../../libs/gen/dtf/registry/v1/registry_service_pb';
import { CollectorService, ResultService } from '../../libs/gen/dtf/result/v1/result_service_pb';
import { SchedulerService } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import { createGrpcTransport } from '../../libs/rpc/grpc-transport';

export const defaultGateway = 'http://127.0.0.1:8080';

/** Where a command sends its calls: a coordinator over gRPC, or a gateway over Connect. */
export interface Endpoint {
  coordinator?: string;
  gateway?: string;
}

export interface Clients {
  scheduler: Client<typeof SchedulerService>;
  registry: Client<typeof RegistryService>;
  results: Client<typeof ResultService>;
  /** Only through a gateway that has a collector attached. */
  collector: Client<typeof CollectorService> | undefined;
  describe: string;
  close(): void;
}

/**
 * Makes clients for the command line. `--coordinator host:port` speaks gRPC
 * to a coordinator; otherwise `--gateway URL` (or $DTF_GATEWAY, or the
 * default of `dtf up`) speaks Connect to a gateway.
 */
export function makeClients(ep: Endpoint): Clients {
  const coordinator = ep.coordinator ?? process.env.DTF_COORDINATOR;
  if (coordinator && !ep.gateway) {
    const t = createGrpcTransport(coordinator);
    return {
      scheduler: createClient(SchedulerService, t),
      registry: createClient(RegistryService, t),
      results: createClient(ResultService, t),
      collector: undefined,
      describe: `coordinator ${coordinator}`,
      close: () => t.close(),
    };
  }
  const baseUrl = ep.gateway ?? process.env.DTF_GATEWAY ?? defaultGateway;
  const t = createConnectTransport({ baseUrl, httpVersion: '1.1' });
  return {
    scheduler: createClient(SchedulerService, t),
    registry: createClient(RegistryService, t),
    results: createClient(ResultService, t),
    collector: createClient(CollectorService, t),
    describe: `gateway ${baseUrl}`,
    close: () => {},
  };
}
