import type { AddressInfo } from 'node:net';
import { defaultRetryPolicy } from '@registry-triggers/core';
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
  CaBundleStore,
  createRedis,
  DeliveryGateStore,
  type DeliveryJob,
  DeliveryStates,
  minReplicasFor,
  newWorkerId,
  PartitionedQueue,
  type PushEventJob,
  queueNames,
  RecordStore,
  RepositoryStore,
  replicasBelow,
  retentionFromEnv,
  TriggerStore,
  workerHeartbeat,
} from '@registry-triggers/store';
import type { Job } from 'bullmq';
import express from 'express';
import { CaDispatchers } from './ca-dispatchers.js';
import { withCancellation } from './cancellable.js';
import { createDeliveryProcessor, createLostDeliveryRecorder } from './deliver.js';
import { readWorkerEnv } from './env.js';
import { createPushEventProcessor } from './evaluate-push.js';
import { DeliveryGates } from './gates/index.js';
import { createDeliveryDispatcher, type DispatcherOptions } from './http-delivery.js';
import { logJobRuns } from './job-log.js';
import { createWorkerMetrics } from './metrics.js';
import { OriginGuard } from './origin-guard.js';
import { workerReadiness } from './readiness.js';
import { startWorkerTracing, tracedDelivery, tracedPushEvaluation, traceHeaders } from './tracing.js';
import { startWorkers, type WorkerSet } from './workers.js';

const env = readWorkerEnv();
const logger = createLogger('worker', env.LOG_LEVEL);
const shutdown = new ShutdownManager(logger, env.SHUTDOWN_DEADLINE_MS);
const tracing = await startWorkerTracing(env);
if (env.DELIVERY_ALLOW_PRIVATE_NETWORKS) {
  logger.warn('DELIVERY_ALLOW_PRIVATE_NETWORKS=true: triggers may reach loopback and private addresses');
}

const redis = createRedis(env, { role: 'worker', name: 'worker' });
redis.on('error', (error) => logger.warn({ err: error.message }, 'redis error'));
const triggers = new TriggerStore(redis);
// What a delivery depends on is on a replica before the delivery goes on (by default on a
// cluster): its claim before the request is sent, its record before the job completes.
const deliveryReplicas = minReplicasFor(env.DELIVERY_MIN_REPLICAS, env);
const replicated = deliveryReplicas > 0 ? { replicas: deliveryReplicas, timeoutMs: 500 } : undefined;
// Not awaited: a worker started before its Redis waits for it in BullMQ, not here.
void replicasBelow(redis, deliveryReplicas).then((replicasNow) => {
  if (replicasNow !== undefined) {
    logger.warn(
      { DELIVERY_MIN_REPLICAS: deliveryReplicas, connectedReplicas: replicasNow },
      'Redis has fewer replicas than DELIVERY_MIN_REPLICAS: deliveries are held, not sent, until enough are attached',
    );
  }
});
const records = new RecordStore(redis, retentionFromEnv(env), replicated);
const deliveries = new PartitionedQueue<DeliveryJob>(queueNames.deliveries, env.QUEUE_PARTITIONS, redis);
const pushEvents = new PartitionedQueue<PushEventJob>(queueNames.pushEvents, env.QUEUE_PARTITIONS, redis);
const guard = new OriginGuard({
  maxInFlight: env.DELIVERY_MAX_IN_FLIGHT_PER_ORIGIN ?? env.WORKER_CONCURRENCY,
});
const registry = createMetricsRegistry('worker');
const metrics = createWorkerMetrics(registry, {
  queueDepths: async () => {
    const depths = await Promise.all(
      [pushEvents, deliveries].flatMap((queue) =>
        queue.partitions.map(async (partition) => {
          const counts = await partition.getJobCounts('waiting', 'active', 'delayed', 'failed');
          return Object.entries(counts).map(([state, count]) => ({ queue: queue.name, state, count }));
        }),
      ),
    );
    return depths.flat();
  },
  circuits: () => guard.openCircuits(),
});
const dispatcherOptions: DispatcherOptions = {
  allowPrivateNetworks: env.DELIVERY_ALLOW_PRIVATE_NETWORKS,
  connectTimeoutMs: env.DELIVERY_CONNECT_TIMEOUT_MS,
  timeoutMs: env.DELIVERY_TIMEOUT_MS,
  // The access record only says the destination is in a blocked range; the address is here.
  onBlocked: (host, addresses) =>
    logger.warn({ host, addresses }, 'delivery refused: the host resolves to blocked addresses only'),
};
const dispatcher = createDeliveryDispatcher(dispatcherOptions);
const caDispatchers = new CaDispatchers(new CaBundleStore(redis), dispatcher, dispatcherOptions);

const gateStore = new DeliveryGateStore(redis);
// The per-trigger gates (coalesce, ordered, rateLimit) and the per-host limit; a lease outlasts
// the longest attempt and its record, so only a dead worker's lease ever expires.
const gates = new DeliveryGates({
  store: gateStore,
  queueFor: (namespace, repository) => deliveries.forRepository(namespace, repository),
  leaseMs: env.DELIVERY_TIMEOUT_MS + 10_000,
  hostPerSecond: env.DELIVERY_HOST_RATE_LIMIT,
  onError: (error) => logger.warn({ err: error }, 'delivery gate: waking a waiting delivery failed'),
});

const processPushEvent = createPushEventProcessor({
  triggers,
  records,
  deliveries,
  gates: gateStore,
  region: env.REGION,
  timeZone: env.PAYLOAD_TIMEZONE,
  maxAttempts: defaultRetryPolicy.maxAttempts,
  metrics,
});
// Each attempt of a delivery with retries is claimed, so a cancel accepted is never followed by a send.
const processDelivery = withCancellation(
  new DeliveryStates(redis),
  env.WORKER_LOCK_DURATION_MS + env.DELIVERY_TIMEOUT_MS,
  createDeliveryProcessor({
    triggers,
    repositories: new RepositoryStore(redis),
    records,
    dispatcher,
    dispatcherFor: (namespace, url) => caDispatchers.forDelivery(namespace, url),
    guard,
    gates,
    policy: defaultRetryPolicy,
    region: env.REGION,
    timeZone: env.PAYLOAD_TIMEZONE,
    allowPrivateNetworks: env.DELIVERY_ALLOW_PRIVATE_NETWORKS,
    timeoutMs: env.DELIVERY_TIMEOUT_MS,
    autoDisableAfterMs: env.TRIGGER_AUTO_DISABLE_AFTER_MS,
    metrics,
    claims: replicated && { redis, ...replicated },
    traceHeaders,
  }),
);

const recordLostDelivery = createLostDeliveryRecorder({ triggers, records });

redisMetrics(registry, redis);
// Set once the workers run; until then, and once they close, /readyz answers 503.
let workerSet: WorkerSet | undefined;

// The metrics port first: a port that cannot be had ends the start before any job is taken.
{
  const app = express();
  app.get('/metrics', metricsRoute(registry));
  app.use(
    healthRoutes(
      redis,
      500,
      workerReadiness(redis, () => workerSet?.workers),
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

const consumed = env.WORKER_PARTITIONS ?? Array.from({ length: env.QUEUE_PARTITIONS }, (_, i) => i);
workerSet = startWorkers({
  connection: redis,
  partitions: consumed,
  evaluationConcurrency: env.EVALUATION_CONCURRENCY,
  deliveryConcurrency: env.WORKER_CONCURRENCY,
  policy: defaultRetryPolicy,
  lockDurationMs: env.WORKER_LOCK_DURATION_MS,
  processPushEvent: tracedPushEvaluation(tracing.tracer, processPushEvent),
  processDelivery: tracedDelivery(tracing.tracer, processDelivery),
  onError: (queue, error) => logger.warn({ queue, err: error.message }, 'worker error'),
  onDeliveryLost: (job) => recordLostDelivery(job as Job<DeliveryJob>),
});
logJobRuns(workerSet.workers, logger);
const heartbeat = workerHeartbeat(redis, newWorkerId(), {
  onError: (error) => logger.debug({ err: error.message }, 'heartbeat not written'),
});
heartbeat.start();
logger.info(
  { concurrency: env.WORKER_CONCURRENCY, partitions: env.QUEUE_PARTITIONS, consumed, deliveryReplicas },
  'worker started: evaluating push events and delivering',
);

// Leaving the heartbeat set first: the api stops counting this worker as it drains.
shutdown.register('heartbeat', () => heartbeat.stop());
shutdown.register('workers', () => workerSet?.close());
shutdown.register('queues', () => Promise.all([deliveries.close(), pushEvents.close()]));
shutdown.register('http dispatcher', () => Promise.all([dispatcher.close(), caDispatchers.close()]));
shutdown.register('redis', () => redis.quit());
shutdown.register('traces', () => tracing.shutdown());
shutdown.listen();
