/** Builds the api's express app from its dependencies; main.ts wires the real ones. */

import type { Tracer } from '@opentelemetry/api';
import {
  authenticate,
  DISTRIBUTION_MEDIA_TYPES,
  healthHandlers,
  httpMetrics,
  type Logger,
  metricsRoute,
  mountRoutes,
  openApiDocument,
  problemHandler,
  type RouteHandlers,
  type RouteSpec,
  refuseReservedKeys,
  requestIds,
  routeNotFound,
  routesOf,
  routeTable,
  serveDirectly,
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
import { CoalescedAdds } from './coalesced-adds.js';
import { DeliveryCancels } from './delivery-cancels.js';
import type { DeliveryRequests } from './delivery-requests.js';
import type { ApiEnv } from './env.js';
import { createApiMetrics } from './metrics.js';
import { quotasOf } from './quotas.js';
import { apiReadiness } from './readiness.js';
import { pushAcceptor } from './routes/accept-pushes.js';
import { caBundleHandlers } from './routes/ca-bundle.js';
import { eventHandlers } from './routes/events.js';
import { repositoryHandlers } from './routes/repositories.js';
import { sourceEventHandlers } from './routes/source-events.js';
import { tokenHandlers } from './routes/tokens.js';
import { triggerHandlers } from './routes/triggers.js';
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

/** The api's part of the route table: what it mounts, documents and answers 405 for. */
export const apiRouteTable = routesOf(routeTable, 'api');

export function createApiApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // No ETag: hashing every answer costs the hot path (POST /v1/events/push) and no client revalidates.
  app.set('etag', false);
  // Every request's first steps, also the first of the direct routes (below).
  const everyRequest = [requestIds(), httpMetrics(deps.metrics)];
  app.use(...everyRequest);
  // The public routes (health, metrics, this document) before authentication; /v1 after it.
  mountRoutes(
    app,
    apiRouteTable.filter((route) => route.public),
    {
      ...healthHandlers(deps.redis, 500, apiReadiness(deps.redis, 500, deps.queueLayout)),
      getMetrics: metricsRoute(deps.metrics),
      getOpenApi: (_req, res) => {
        res.json(openApiDocument());
      },
    },
  );

  const v1Requests = [
    authenticate({ adminToken: deps.env.ADMIN_TOKEN, ingestToken: deps.env.INGEST_TOKEN, redis: deps.redis }),
    // Bodies are read only once the caller is known: without a token the answer is 401,
    // and an anonymous client cannot make the api buffer and parse megabytes.
    express.json({
      limit: deps.env.MAX_BODY_BYTES,
      type: ['application/json', 'application/*+json', ...DISTRIBUTION_MEDIA_TYPES],
    }),
    refuseReservedKeys(),
  ];
  app.use('/v1', ...v1Requests);
  const repositories = new RepositoryStore(deps.redis);
  const quotas = quotasOf(deps.env);
  const replicas = minReplicasFor(deps.env.INGEST_MIN_REPLICAS, deps.env);
  const durability =
    replicas > 0
      ? { redis: deps.redis, replicas, timeoutMs: deps.env.INGEST_REPLICA_TIMEOUT_MS ?? 500 }
      : undefined;
  // The busiest routes (POST /v1/events/*) first: express tries every earlier route of a
  // request in turn.
  const accept = pushAcceptor(
    {
      queue: deps.pushEvents,
      adds: new CoalescedAdds(),
      repositories,
      durability,
      repositoriesPerNamespace: quotas.repositoriesPerNamespace,
      deadlineMs: deps.env.INGEST_DEADLINE_MS,
    },
    createApiMetrics(deps.metrics),
    deps.logger,
  );
  const secured = apiRouteTable.filter((route) => !route.public);
  const ingest = (route: RouteSpec) => route.path.startsWith('/v1/events/');
  const ingestHandlers: RouteHandlers = {
    ...eventHandlers(
      accept,
      deps.logger,
      { maxEnvelopeEvents: deps.env.MAX_EVENTS_PER_ENVELOPE },
      deps.tracer,
    ),
    ...sourceEventHandlers(accept, deps.tracer),
  };
  mountRoutes(app, [...secured.filter(ingest), ...secured.filter((route) => !ingest(route))], {
    ...ingestHandlers,
    ...tokenHandlers(deps.redis),
    ...caBundleHandlers(new CaBundleStore(deps.redis)),
    ...repositoryHandlers(repositories, quotas),
    ...triggerHandlers({
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
  });
  app.use(routeNotFound(apiRouteTable));
  const problems = problemHandler(deps.logger);
  app.use(problems);
  // The ingest routes, a registry's one request per pushed tag, skip express's router: the
  // same steps in the same order (direct-routes.ts).
  serveDirectly(
    app,
    secured.filter(ingest).map((route) => ({
      method: route.method,
      path: route.path,
      chain: [...everyRequest, ...v1Requests, ...[ingestHandlers[route.operationId]!].flat()],
    })),
    problems,
  );
  return app;
}
