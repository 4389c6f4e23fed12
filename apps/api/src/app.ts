/** Builds the api's express app from its dependencies; main.ts wires the real ones. */

import type { Tracer } from '@opentelemetry/api';
import {
  authenticate,
  DISTRIBUTION_MEDIA_TYPES,
  healthRoutes,
  httpMetrics,
  type Logger,
  metricsRoute,
  openApiDocument,
  problemHandler,
  refuseReservedKeys,
  requestIds,
  routeNotFound,
} from '@registry-triggers/http-kit';
import {
  CaBundleStore,
  DeliveryStates,
  type LayoutReport,
  minReplicasFor,
  type PartitionedQueue,
  type PushEventJob,
  type RecordStore,
  type RedisConnection,
  RepositoryStore,
  TriggerStore,
} from '@registry-triggers/store';
import express, { type Express } from 'express';
import type { Registry } from 'prom-client';
import { DeliveryCancels } from './delivery-cancels.js';
import type { DeliveryRequests } from './delivery-requests.js';
import type { ApiEnv } from './env.js';
import { createApiMetrics } from './metrics.js';
import { quotasOf } from './quotas.js';
import { apiReadiness } from './readiness.js';
import { pushAcceptor } from './routes/accept-pushes.js';
import { caBundleRoutes } from './routes/ca-bundle.js';
import { eventRoutes } from './routes/events.js';
import { repositoryRoutes } from './routes/repositories.js';
import { sourceEventRoutes } from './routes/source-events.js';
import { tokenRoutes } from './routes/tokens.js';
import { triggerRoutes } from './routes/triggers.js';
import { testDeliveryLimit } from './test-delivery-limit.js';

export interface ApiDeps {
  env: Pick<
    ApiEnv,
    | 'ADMIN_TOKEN'
    | 'INGEST_TOKEN'
    | 'MAX_BODY_BYTES'
    | 'TRIGGERS_PER_REPOSITORY'
    | 'TEST_DELIVERIES_PER_MINUTE'
    | 'REPOSITORIES_PER_NAMESPACE'
    | 'TRIGGERS_PER_NAMESPACE'
    | 'INGEST_DEADLINE_MS'
    | 'MAX_EVENTS_PER_ENVELOPE'
  > &
    Partial<Pick<ApiEnv, 'INGEST_MIN_REPLICAS' | 'INGEST_REPLICA_TIMEOUT_MS' | 'REDIS_CLUSTER_NODES'>>;
  redis: RedisConnection;
  pushEvents: PartitionedQueue<PushEventJob>;
  deliveryRequests: DeliveryRequests;
  records: RecordStore;
  logger: Logger;
  metrics: Registry;
  /** The ingest spans' tracer (tracing.ts); a no-op one when tracing is off. */
  tracer?: Tracer;
  /** The queue partitions and masters, for /readyz (partitions.ts). */
  queueLayout?: () => Promise<LayoutReport>;
}

export function createApiApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // No ETag: hashing every answer costs the hot path (POST /v1/events/push) and no client revalidates.
  app.set('etag', false);
  app.use(requestIds());
  app.use(httpMetrics(deps.metrics));
  app.use(healthRoutes(deps.redis, 500, apiReadiness(deps.redis, 500, deps.queueLayout)));
  app.get('/metrics', metricsRoute(deps.metrics));
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });

  app.use(
    '/v1',
    authenticate({ adminToken: deps.env.ADMIN_TOKEN, ingestToken: deps.env.INGEST_TOKEN, redis: deps.redis }),
  );
  // Bodies are read only once the caller is known: without a token the answer is 401,
  // and an anonymous client cannot make the api buffer and parse megabytes.
  app.use(
    '/v1',
    express.json({
      limit: deps.env.MAX_BODY_BYTES,
      type: ['application/json', 'application/*+json', ...DISTRIBUTION_MEDIA_TYPES],
    }),
  );
  app.use('/v1', refuseReservedKeys());
  const repositories = new RepositoryStore(deps.redis);
  const quotas = quotasOf(deps.env);
  const replicas = minReplicasFor(deps.env.INGEST_MIN_REPLICAS, deps.env);
  const durability =
    replicas > 0
      ? { redis: deps.redis, replicas, timeoutMs: deps.env.INGEST_REPLICA_TIMEOUT_MS ?? 500 }
      : undefined;
  // The busiest routes first: express tries every earlier route of a request in turn.
  const accept = pushAcceptor(
    {
      queue: deps.pushEvents,
      repositories,
      durability,
      repositoriesPerNamespace: quotas.repositoriesPerNamespace,
      deadlineMs: deps.env.INGEST_DEADLINE_MS,
    },
    createApiMetrics(deps.metrics),
    deps.logger,
  );
  app.use(
    eventRoutes(accept, deps.logger, { maxEnvelopeEvents: deps.env.MAX_EVENTS_PER_ENVELOPE }, deps.tracer),
  );
  app.use(sourceEventRoutes(accept, deps.tracer));
  app.use(tokenRoutes(deps.redis));
  app.use(caBundleRoutes(new CaBundleStore(deps.redis)));
  app.use(repositoryRoutes(repositories, quotas));
  app.use(
    triggerRoutes({
      triggers: new TriggerStore(deps.redis),
      records: deps.records,
      deliveries: deps.deliveryRequests,
      cancels: new DeliveryCancels(new DeliveryStates(deps.redis), deps.records, deps.deliveryRequests, {
        // Past the longest attempt (DELIVERY_TIMEOUT_MS, 10 s by default).
        waitForAttemptMs: 15_000,
      }),
      quotas,
      limitTestDeliveries: testDeliveryLimit(deps.redis, deps.env.TEST_DELIVERIES_PER_MINUTE),
    }),
  );
  app.use(routeNotFound(app));
  app.use(problemHandler(deps.logger));
  return app;
}
