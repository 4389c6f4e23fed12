/** The worker process: env, logs, tracing, the metrics port, the runtime's workers, heartbeat and shutdown. */
import type { AddressInfo } from 'node:net';
import {
  createLogger,
  createMetricsRegistry,
  healthRoutes,
  listenOrExit,
  metricsRoute,
  redisMetrics,
  ShutdownManager,
} from '@registry-triggers/http-kit';
import {
  createRedis,
  layoutReporter,
  layoutWarnings,
  minReplicasFor,
  newWorkerId,
  replicasBelow,
  resolveQueueLayout,
  workerHeartbeat,
} from '@registry-triggers/store';
import express from 'express';
import { missingPartition, readWorkerEnv } from './env.js';
import { workerReadiness } from './readiness.js';
import { createWorkerRuntime } from './runtime.js';
import { startWorkerTracing } from './tracing.js';

const env = readWorkerEnv();
const logger = createLogger('worker', env.LOG_LEVEL);
const shutdown = new ShutdownManager(logger, env.SHUTDOWN_DEADLINE_MS);
const tracing = await startWorkerTracing(env);
if (env.DELIVERY_ALLOW_PRIVATE_NETWORKS) {
  logger.warn('DELIVERY_ALLOW_PRIVATE_NETWORKS=true: triggers may reach loopback and private addresses');
}

const redis = createRedis(env, { role: 'worker', name: 'worker' });
redis.on('error', (error) => logger.warn({ err: error.message }, 'redis error'));
const deliveryReplicas = minReplicasFor(env.DELIVERY_MIN_REPLICAS, env);
// Not awaited: a worker started before its Redis waits for it in BullMQ, not here.
void replicasBelow(redis, deliveryReplicas).then((replicasNow) => {
  if (replicasNow !== undefined) {
    logger.warn(
      { DELIVERY_MIN_REPLICAS: deliveryReplicas, connectedReplicas: replicasNow },
      'Redis has fewer replicas than DELIVERY_MIN_REPLICAS: deliveries are held, not sent, until enough are attached',
    );
  }
});
// The api and every worker must use one partition count (partitions.ts, docs/cluster.md).
const layout = await resolveQueueLayout(redis, env.QUEUE_PARTITIONS, { role: 'consumer' });
for (const warning of layoutWarnings(layout, 'consumer')) logger.warn({ ...layout }, warning);
const unknownPartition = env.WORKER_PARTITIONS && missingPartition(env.WORKER_PARTITIONS, layout.partitions);
if (unknownPartition) {
  logger.error({ ...layout }, `invalid setting WORKER_PARTITIONS: ${unknownPartition}`);
  process.exit(2);
}
const registry = createMetricsRegistry('worker');
const runtime = createWorkerRuntime({
  env,
  redis,
  registry,
  logger,
  // Tracing off: no tracer, so no span, context switch or traceparent per job (no-op spans cost ~1% CPU).
  tracer: tracing.enabled ? tracing.tracer : undefined,
  partitionCount: layout.partitions,
});
redisMetrics(registry, redis);

// The metrics port first: a port that cannot be had ends the start before any job is taken.
// Until the workers run, and once they close, /readyz answers 503.
{
  const app = express();
  app.get('/metrics', metricsRoute(registry));
  app.use(
    healthRoutes(
      redis,
      500,
      workerReadiness(redis, () => runtime.workers?.workers, 500, layoutReporter(redis, layout)),
    ),
  );
  const server = await listenOrExit(
    app,
    'WORKER_METRICS_PORT',
    env.WORKER_METRICS_PORT,
    env.WORKER_METRICS_HOST,
  );
  shutdown.register('metrics http', () => new Promise((resolve) => server.close(resolve)));
  const { port } = server.address() as AddressInfo;
  logger.info({ port }, `worker metrics on http://${env.WORKER_METRICS_HOST}:${port}/metrics`);
}

runtime.start();
const heartbeat = workerHeartbeat(redis, newWorkerId(), {
  onError: (error) => logger.debug({ err: error.message }, 'heartbeat not written'),
});
heartbeat.start();
logger.info(
  {
    concurrency: env.WORKER_CONCURRENCY,
    partitions: layout.partitions,
    partitionsFrom: layout.source,
    masters: layout.masters,
    consumed: runtime.partitions,
    deliveryReplicas,
  },
  'worker started: evaluating push events and delivering',
);

// Leaving the heartbeat set first: the api stops counting this worker as it drains.
shutdown.register('heartbeat', () => heartbeat.stop());
shutdown.register('workers, queues and dispatchers', () => runtime.close());
shutdown.register('redis', () => redis.quit());
shutdown.register('traces', () => tracing.shutdown());
shutdown.listen();
