/**
 * The api's parts wired together: Redis, the queues, the delivery requests, the record store,
 * the metrics and the express app. main.ts starts it; the api tests start the same one.
 */
import type { Tracer } from '@opentelemetry/api';
import { defaultRetryPolicy } from '@registry-triggers/core';
import { createMetricsRegistry, type Logger, redisMetrics } from '@registry-triggers/http-kit';
import {
  createRedis,
  type DeliveryJob,
  layoutReporter,
  layoutWarnings,
  liveWorkers,
  PartitionedQueue,
  type PushEventJob,
  queueNames,
  RecordStore,
  type RedisConnection,
  readBacklog,
  resolveQueueLayout,
} from '@registry-triggers/store';
import type { Express } from 'express';
import type { Registry } from 'prom-client';
import { type ApiDeps, createApiApp } from './app.js';
import { DeliveryRequests } from './delivery-requests.js';
import type { ApiEnv } from './env.js';
import { registerBacklogMetrics } from './metrics.js';

export type ApiRuntimeEnv = ApiDeps['env'] &
  Parameters<typeof createRedis>[0] &
  Pick<ApiEnv, 'QUEUE_PARTITIONS' | 'REDIS_COMMAND_TIMEOUT_MS' | 'TEST_DELIVERY_WAIT_MS'>;

export interface ApiRuntimeDeps {
  env: ApiRuntimeEnv;
  logger: Logger;
  /** The ingest spans' tracer (tracing.ts); a no-op one when tracing is off. */
  tracer?: Tracer | undefined;
  /** The Redis connections' client name (CLIENT LIST). */
  connectionName?: string;
}

export interface ApiRuntime {
  app: Express;
  redis: RedisConnection;
  pushEvents: PartitionedQueue<PushEventJob>;
  deliveries: PartitionedQueue<DeliveryJob>;
  deliveryRequests: DeliveryRequests;
  records: RecordStore;
  metrics: Registry;
  /** In the order shutdown takes them, after the HTTP server: delivery events, queues, Redis. */
  closeSteps: Array<[name: string, close: () => Promise<unknown>]>;
  /** Drops every Redis connection at once (a test after an outage, where quit would wait). */
  disconnect: () => void;
}

export async function createApiRuntime(deps: ApiRuntimeDeps): Promise<ApiRuntime> {
  const { env, logger } = deps;
  const name = deps.connectionName ?? 'api';
  const redis = createRedis(env, {
    role: 'fail-fast',
    commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
    name,
  });
  redis.on('error', (error) => logger.warn({ err: error.message }, 'redis error'));
  const blockingConnections: RedisConnection[] = [];
  // The api and every worker must use one partition count (partitions.ts, docs/cluster.md); on a
  // cluster the api waits for Redis to know it, as it cannot place an event without it.
  const layout = await resolveQueueLayout(redis, env.QUEUE_PARTITIONS, {
    role: 'producer',
    onRetry: (error, attempt) =>
      attempt % 5 === 1 &&
      logger.warn(
        { err: error.message },
        'Redis Cluster not answering yet: waiting for it to count the masters',
      ),
  });
  for (const warning of layoutWarnings(layout, 'producer')) logger.warn({ ...layout }, warning);
  logger.info({ ...layout }, `queue partitions: ${layout.partitions} (${layout.source})`);
  const pushEvents = new PartitionedQueue<PushEventJob>(queueNames.pushEvents, layout.partitions, redis);
  const deliveries = new PartitionedQueue<DeliveryJob>(queueNames.deliveries, layout.partitions, redis);
  const deliveryRequests = new DeliveryRequests(
    deliveries,
    () => {
      const connection = createRedis(env, { role: 'worker', name: `${name}-events` });
      // Without a listener ioredis prints every reconnect failure with a stack; the shared
      // connection already warns of the outage.
      connection.on('error', (error) =>
        logger.debug({ err: error.message }, 'redis error (delivery events)'),
      );
      blockingConnections.push(connection);
      return connection;
    },
    env.TEST_DELIVERY_WAIT_MS,
    defaultRetryPolicy.maxAttempts,
  );
  // The api only reads records; retention is the worker's, which writes them.
  const records = new RecordStore(redis);

  const metrics = createMetricsRegistry('api');
  redisMetrics(metrics, redis);
  registerBacklogMetrics(metrics, {
    backlog: () => readBacklog([pushEvents, deliveries] as Array<PartitionedQueue<unknown>>),
    liveWorkers: () => liveWorkers(redis),
  });
  const app = createApiApp({
    env,
    redis,
    pushEvents,
    deliveryRequests,
    records,
    logger,
    metrics,
    queueLayout: layoutReporter(redis, layout),
    ...(deps.tracer ? { tracer: deps.tracer } : {}),
  });
  return {
    app,
    redis,
    pushEvents,
    deliveries,
    deliveryRequests,
    records,
    metrics,
    closeSteps: [
      ['delivery events', () => deliveryRequests.close()],
      ['queues', () => Promise.all([pushEvents.close(), deliveries.close()])],
      ['redis', () => Promise.all([redis.quit(), ...blockingConnections.map((c) => c.quit())])],
    ],
    disconnect: () => {
      for (const connection of [redis, ...blockingConnections]) connection.disconnect();
    },
  };
}
