/** Builds the logs app: the access-log API, the live tail, the console and its way to the api. */
import {
  authenticate,
  healthHandlers,
  httpMetrics,
  type Logger,
  methodsServing,
  metricsRoute,
  mountRoutes,
  openApiDocument,
  problemHandler,
  requestIds,
  routeNotFound,
  routesOf,
  routeTable,
} from '@registry-triggers/http-kit';
import { RecordStore, type RedisConnection } from '@registry-triggers/store';
import express, { type Express } from 'express';
import { Gauge, type Registry } from 'prom-client';
import { apiProxy } from './routes/api-proxy.js';
import { liveTailHandlers } from './routes/live-tail.js';
import { recordHandlers } from './routes/records.js';
import { webPageHandlers } from './routes/web-page.js';

/** The logs app's part of the route table: what it mounts, documents and answers 405 for. */
export const logsRouteTable = routesOf(routeTable, 'logs');

export interface LogsDeps {
  adminToken: string;
  /** The registries' token: it may only post events to the api, so here it is refused with 403. */
  ingestToken?: string | undefined;
  redis: RedisConnection;
  blockingConnection: () => RedisConnection;
  maxStreams: number;
  maxStreamsPerNamespace: number;
  streamBufferBytes: number;
  logger: Logger;
  metrics: Registry;
  /** Where `/v1/*` routes this app does not serve are forwarded (CONSOLE_API_URL); unset: nowhere. */
  apiUrl?: URL | undefined;
  /** Longest wait for the api's answer to begin or its body to move on (CONSOLE_API_TIMEOUT_MS). */
  apiTimeoutMs?: number;
}

export function createLogsApp(
  deps: LogsDeps,
): Express & { closeStreams: () => void; closeApiConnections: () => void } {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestIds());
  app.use(httpMetrics(deps.metrics));
  // The public routes (health, metrics, the document, the console) before authentication.
  mountRoutes(
    app,
    logsRouteTable.filter((route) => route.public),
    {
      ...healthHandlers(deps.redis),
      getMetrics: metricsRoute(deps.metrics),
      // The whole contract's document, the same one the api serves.
      getOpenApi: (_req, res) => {
        res.json(openApiDocument());
      },
      ...webPageHandlers(),
    },
  );

  const records = new RecordStore(deps.redis);
  const liveTail = liveTailHandlers({
    records,
    blockingConnection: deps.blockingConnection,
    maxStreams: deps.maxStreams,
    maxStreamsPerNamespace: deps.maxStreamsPerNamespace,
    streamBufferBytes: deps.streamBufferBytes,
  });
  new Gauge({
    name: 'live_tail_clients',
    help: 'Live-tail (Server-Sent Events) connections open now',
    registers: [deps.metrics],
    collect() {
      this.set(liveTail.clients());
    },
  });
  // Before authentication: the api checks its own tokens (an ingest token is refused here).
  const proxy = deps.apiUrl
    ? apiProxy({
        target: deps.apiUrl,
        serves: (req) => methodsServing(logsRouteTable, req.path).length > 0,
        timeoutMs: deps.apiTimeoutMs ?? 40_000,
        logger: deps.logger,
      })
    : undefined;
  if (proxy) app.use(proxy);
  app.use(
    '/v1',
    authenticate({ adminToken: deps.adminToken, ingestToken: deps.ingestToken, redis: deps.redis }),
  );
  mountRoutes(
    app,
    logsRouteTable.filter((route) => !route.public),
    { ...liveTail.handlers, ...recordHandlers(records) },
  );
  app.use(routeNotFound(logsRouteTable));
  app.use(problemHandler(deps.logger));
  return Object.assign(app, {
    closeStreams: liveTail.closeAll,
    closeApiConnections: () => proxy?.close(),
  });
}
