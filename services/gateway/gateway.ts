import { create, toJson, type JsonValue } from '@bufbuild/protobuf';
import { Code, ConnectError, createHandlerContext, type ConnectRouter } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import { statfs } from 'node:fs/promises';
import { RegistryService } from '../../libs/gen/dtf/registry/v1/registry_service_pb';
import { CollectorService, GetCollectorStatusResponseSchema, ResultService, type GetCollectorStatusResponse } from '../../libs/gen/dtf/result/v1/result_service_pb';
import { SchedulerService } from '../../libs/gen/dtf/scheduler/v1/scheduler_service_pb';
import type { ServiceImpl } from '@connectrpc/connect';
import { sendError, sendJson } from './http-error';
import { matchPath, restRoutes, type Route } from './rest-routes';
import type { CoordinatorImpls } from './service-impls';
import { GatewayMetrics } from './gateway-metrics';

/** Largest request body accepted, on REST and Connect alike. */
export const requestBytesMax = 4 * 1024 * 1024;

export interface GatewayOptions {
  impls: CoordinatorImpls;
  /** The result collector's service, when one is reachable. */
  collector?: ServiceImpl<typeof CollectorService>;
  /** Directory whose disk /api/health/resources reports. */
  dataDir?: string;
  host?: string;
  port?: number;
}

/**
 * The HTTP face of DTF: REST paths for CI systems and curl, every service
 * method at its Connect path, health, and Prometheus metrics.
 */
export class Gateway {
  readonly server: http.Server;
  private readonly routes: Route[];
  private readonly metrics: GatewayMetrics;
  private readonly startedMs = Date.now();
  port = 0;

  constructor(private readonly opts: GatewayOptions) {
    this.routes = restRoutes(opts.impls);
    this.metrics = new GatewayMetrics(opts.impls);
    const connect = connectNodeAdapter({
      readMaxBytes: requestBytesMax,
      routes: (router: ConnectRouter) => {
        router.service(SchedulerService, opts.impls.scheduler);
        router.service(RegistryService, opts.impls.registry);
        router.service(ResultService, opts.impls.results);
        if (opts.collector) router.service(CollectorService, opts.collector);
      },
    });
    this.server = http.createServer((req, res) => {
      if (req.url?.startsWith('/api/')) void this.rest(req, res);
      else connect(req, res);
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? 8080, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return `http://${this.opts.host ?? '127.0.0.1'}:${this.port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private async rest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    try {
      const fixed = await this.fixedRoute(req.method ?? 'GET', url.pathname, res);
      if (fixed) return;
      for (const route of this.routes) {
        const params = matchPath(route.path, url.pathname);
        if (!params) continue;
        if (req.method !== route.method) {
          throw new ConnectError(`${url.pathname} takes ${route.method}, not ${req.method}`, Code.InvalidArgument);
        }
        const body = req.method === 'POST' ? await readJson(req) : undefined;
        sendJson(res, 200, await route.handle({ params, query: url.searchParams, body, signal: abort.signal }));
        return;
      }
      throw new ConnectError(`no route ${req.method} ${url.pathname}; see the README's REST reference`, Code.NotFound);
    } catch (e) {
      if (e instanceof BodyTooLargeError) sendJson(res, 413, { error: { code: 'resource_exhausted', message: e.message } }, { connection: 'close' });
      else sendError(res, e);
    }
  }

  private async fixedRoute(method: string, path: string, res: http.ServerResponse): Promise<boolean> {
    if (method !== 'GET') return false;
    switch (path) {
      case '/api/health':
        sendJson(res, 200, { status: 'ok', uptime_ms: Date.now() - this.startedMs, pid: process.pid });
        return true;
      case '/api/health/db': {
        const st = await this.dbStatus();
        sendJson(res, st ? 200 : 503, st ? { status: st.connected ? 'ok' : 'disconnected', ...(toJson(GetCollectorStatusResponseSchema, st, { alwaysEmitImplicit: true }) as object) } : { status: 'unavailable', message: 'no result collector is attached to this gateway; start one with `dtf results` and pass --collector' });
        return true;
      }
      case '/api/health/resources':
        sendJson(res, 200, await this.resources());
        return true;
      case '/api/metrics':
        res.writeHead(200, { 'content-type': this.metrics.contentType });
        res.end(await this.metrics.render());
        return true;
      default:
        return false;
    }
  }

  private async dbStatus(): Promise<GetCollectorStatusResponse | undefined> {
    if (!this.opts.collector) return undefined;
    const impl = this.opts.collector;
    const ctx = createHandlerContext({ service: CollectorService, method: CollectorService.method.getCollectorStatus, protocolName: 'rest', requestMethod: 'GET', url: '/api/health/db' });
    return create(GetCollectorStatusResponseSchema, await impl.getCollectorStatus({ $typeName: 'dtf.result.v1.GetCollectorStatusRequest' }, ctx));
  }

  private async resources(): Promise<Record<string, unknown>> {
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    let disk: Record<string, number> | undefined;
    try {
      const s = await statfs(this.opts.dataDir ?? '.');
      disk = { total_bytes: s.blocks * s.bsize, free_bytes: s.bavail * s.bsize };
    } catch {
      disk = undefined;
    }
    return {
      process: { rss_bytes: mem.rss, heap_used_bytes: mem.heapUsed, cpu_user_ms: Math.round(cpu.user / 1000), cpu_system_ms: Math.round(cpu.system / 1000), uptime_ms: Math.round(process.uptime() * 1000) },
      host: { cpus: os.cpus().length, load_average: os.loadavg(), memory_total_bytes: os.totalmem(), memory_free_bytes: os.freemem() },
      disk,
    };
  }
}

/** A request body past {@link requestBytesMax}: answered 413. */
class BodyTooLargeError extends Error {}

async function readJson(req: http.IncomingMessage): Promise<JsonValue | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > requestBytesMax) throw new BodyTooLargeError(`request body over the ${requestBytesMax}-byte limit`);
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as JsonValue;
  } catch (e) {
    throw new ConnectError(`request body is not JSON: ${(e as Error).message}`, Code.InvalidArgument);
  }
}
