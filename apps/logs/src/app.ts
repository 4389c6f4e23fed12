/** Builds the logs app: the access-log API, the live tail and the web page. */
import {
  authenticate,
  healthRoutes,
  httpMetrics,
  type Logger,
  metricsRoute,
  openApiDocument,
  problemHandler,
  routeNotFound,
} from '@registry-triggers/http-kit';
import { RecordStore, type RedisConnection } from '@registry-triggers/store';
import express, { type Express } from 'express';
import { Gauge, type Registry } from 'prom-client';
import { liveTailRoutes } from './routes/live-tail.js';
import { recordRoutes } from './routes/records.js';
import { webPageRoutes } from './routes/web-page.js';

export interface LogsDeps {
  adminToken: string;
  /** The registries' token: it may only post events to the api, so here it is refused with 403. */
  ingestToken?: string | undefined;
  redis: RedisConnection;
  blockingConnection: () => RedisConnection;
  maxStreams: number;
  logger: Logger;
  metrics: Registry;
}

export function createLogsApp(deps: LogsDeps): Express & { closeStreams: () => void } {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(httpMetrics(deps.metrics));
  app.use(healthRoutes(deps.redis));
  app.get('/metrics', metricsRoute(deps.metrics));
  // The whole contract's document, the same one the api serves.
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  app.use(webPageRoutes());

  const records = new RecordStore(deps.redis);
  const liveTail = liveTailRoutes({
    records,
    blockingConnection: deps.blockingConnection,
    maxStreams: deps.maxStreams,
  });
  new Gauge({
    name: 'live_tail_clients',
    help: 'Live-tail (Server-Sent Events) connections open now',
    registers: [deps.metrics],
    collect() {
      this.set(liveTail.clients());
    },
  });
  app.use(
    '/v1',
    authenticate({ adminToken: deps.adminToken, ingestToken: deps.ingestToken, redis: deps.redis }),
  );
  app.use(liveTail);
  app.use(recordRoutes(records));
  app.use(routeNotFound(app));
  app.use(problemHandler(deps.logger));
  return Object.assign(app, { closeStreams: liveTail.closeAll });
}
