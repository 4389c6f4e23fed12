import { defaultRetryPolicy } from '@registry-triggers/core';
import {
  awaitFirstConnection,
  closeServer,
  createLogger,
  createMetricsRegistry,
  listenOrExit,
  redisMetrics,
  ShutdownManager,
} from '@registry-triggers/http-kit';
import {
  createRedis,
  type DeliveryJob,
  layoutReporter,
  layoutWarnings,
  liveWorkers,
  minReplicasFor,
  PartitionedQueue,
  type PushEventJob,
  queueNames,
  RecordStore,
  readBacklog,
  replicasBelow,
  resolveQueueLayout,
} from '@registry-triggers/store';
import { createApiApp } from './app.js';
import { DeliveryRequests } from './delivery-requests.js';
import { readApiEnv } from './env.js';
import { registerBacklogMetrics } from './metrics.js';
import { startApiTracing } from './tracing.js';

const env = readApiEnv();
const logger = createLogger('api', env.LOG_LEVEL);
const shutdown = new ShutdownManager(logger);
const tracing = await startApiTracing(env);

const redis = createRedis(env, {
  role: 'fail-fast',
  commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
  name: 'api',
});
redis.on('error', (error) => logger.warn({ err: error.message }, 'redis error'));
const blockingConnections: Array<{ quit(): Promise<unknown> }> = [];
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
    const connection = createRedis(env, { role: 'worker', name: 'api-events' });
    // Without a listener ioredis prints every reconnect failure with a stack; the shared
    // connection already warns of the outage.
    connection.on('error', (error) => logger.debug({ err: error.message }, 'redis error (delivery events)'));
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
  tracer: tracing.tracer,
  queueLayout: layoutReporter(redis, layout),
});
if (!(await awaitFirstConnection(redis)))
  logger.warn('Redis is not reachable yet: answering 503 until it is');
const ingestReplicas = minReplicasFor(env.INGEST_MIN_REPLICAS, env);
const replicasNow = await replicasBelow(redis, ingestReplicas);
if (replicasNow !== undefined) {
  logger.warn(
    { INGEST_MIN_REPLICAS: ingestReplicas, connectedReplicas: replicasNow },
    'Redis has fewer replicas than INGEST_MIN_REPLICAS: pushes answer 503 not-replicated until enough are attached',
  );
}
const server = await listenOrExit(app, 'API_PORT', env.API_PORT, env.API_HOST);
logger.info({ port: env.API_PORT }, `api listening on http://${env.API_HOST}:${env.API_PORT}`);

shutdown.register('http', () => closeServer(server));
shutdown.register('delivery events', () => deliveryRequests.close());
shutdown.register('queues', () => Promise.all([pushEvents.close(), deliveries.close()]));
shutdown.register('redis', () => Promise.all([redis.quit(), ...blockingConnections.map((c) => c.quit())]));
shutdown.register('traces', () => tracing.shutdown());
shutdown.listen();
