/**
 * The worker's wiring: stores, queues, the HTTP dispatchers, the origin guard, metrics and
 * the two processors, as main.ts runs them and as the tests run them (a test builds this with
 * its own Redis and settings, never a hand-made copy). main.ts adds the process around it:
 * env, logs, the metrics port, the heartbeat and the shutdown.
 */
import type { Tracer } from '@opentelemetry/api';
import { defaultRetryPolicy, type RetryPolicy } from '@registry-triggers/core';
import type { Logger } from '@registry-triggers/http-kit';
import {
  CaBundleStore,
  DeliveryGateStore,
  type DeliveryJob,
  DeliveryStates,
  minReplicasFor,
  PartitionedQueue,
  type PushEventJob,
  queueNames,
  RecordStore,
  type RedisConnection,
  RepositoryStore,
  retentionFromEnv,
  TriggerStore,
} from '@registry-triggers/store';
import type { Job } from 'bullmq';
import type { Registry } from 'prom-client';
import { type DeliveryGate, originGuardGate } from './admissions.js';
import { CaDispatchers } from './ca-dispatchers.js';
import { claimBeforeRetryRecord, withCancellation } from './cancellable.js';
import { createDeliveryProcessor, type DeliveryResult } from './deliver.js';
import type { WorkerEnv } from './env.js';
import { createPushEventProcessor } from './evaluate-push.js';
import { DeliveryGates, triggerGatesStep } from './gates/index.js';
import { createDeliveryDispatcher, type DispatcherOptions } from './http-delivery.js';
import { logJobRuns } from './job-log.js';
import { createLostDeliveryRecorder } from './lost-deliveries.js';
import { createWorkerMetrics, type WorkerMetrics } from './metrics.js';
import { OriginGuard } from './origin-guard.js';
import { createSettler } from './settle.js';
import { tracedDelivery, tracedPushEvaluation, traceHeaders } from './tracing.js';
import { startWorkers, type WorkerSet } from './workers.js';

export interface WorkerRuntimeDeps {
  env: WorkerEnv;
  redis: RedisConnection;
  registry: Registry;
  /** The queue partitions of the deployment (main.ts resolves it on a cluster); QUEUE_PARTITIONS or 1 without. */
  partitionCount?: number | undefined;
  logger?: Logger | undefined;
  /** Spans per evaluation and attempt (tracing.ts); none without. */
  tracer?: Tracer | undefined;
  /** For tests: a guard with small limits, a clock, a retry policy with short waits. */
  guard?: OriginGuard | undefined;
  policy?: RetryPolicy | undefined;
  /** Gates asked after the origin guard and the trigger's own, in order (admissions.ts). */
  gates?: readonly DeliveryGate[] | undefined;
  writeRetryDelaysMs?: readonly number[] | undefined;
  /**
   * The access log's Redis when it is not `redis`: for tests, a store that refuses writes
   * while the queue works, as the log's master failing over does on a cluster (other slot).
   */
  recordsRedis?: RedisConnection | undefined;
  now?: () => number;
}

export interface WorkerRuntime {
  metrics: WorkerMetrics;
  guard: OriginGuard;
  /** The delivery processor as the workers run it: cancellable, traced. */
  processDelivery: (job: Job<DeliveryJob>, token?: string) => Promise<DeliveryResult>;
  processPushEvent: (job: Job<PushEventJob>, token?: string) => Promise<unknown>;
  /** The queue partitions this process consumes (WORKER_PARTITIONS, or every one). */
  partitions: number[];
  /** Starts the BullMQ workers on those partitions; `workers` is set from then on. */
  start(): WorkerSet;
  workers: WorkerSet | undefined;
  /** Workers, then queues, then HTTP dispatchers (Redis is the caller's). */
  close(): Promise<void>;
}

export function createWorkerRuntime(deps: WorkerRuntimeDeps): WorkerRuntime {
  const { env, redis, logger } = deps;
  const policy = deps.policy ?? defaultRetryPolicy;
  const partitionCount = deps.partitionCount ?? env.QUEUE_PARTITIONS ?? 1;
  const triggers = new TriggerStore(redis);
  // What a delivery depends on is on a replica before the delivery goes on (by default on a
  // cluster): its claim before the request is sent, its record before the job completes.
  const deliveryReplicas = minReplicasFor(env.DELIVERY_MIN_REPLICAS, env);
  const replicated = deliveryReplicas > 0 ? { replicas: deliveryReplicas, timeoutMs: 500 } : undefined;
  const records = new RecordStore(deps.recordsRedis ?? redis, retentionFromEnv(env), replicated);
  const deliveries = new PartitionedQueue<DeliveryJob>(queueNames.deliveries, partitionCount, redis);
  const pushEvents = new PartitionedQueue<PushEventJob>(queueNames.pushEvents, partitionCount, redis);
  const guard =
    deps.guard ??
    new OriginGuard({ maxInFlight: env.DELIVERY_MAX_IN_FLIGHT_PER_ORIGIN ?? env.WORKER_CONCURRENCY });
  const metrics = createWorkerMetrics(deps.registry, {
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
      logger?.warn({ host, addresses }, 'delivery refused: the host resolves to blocked addresses only'),
  };
  const dispatcher = createDeliveryDispatcher(dispatcherOptions);
  const caDispatchers = new CaDispatchers(new CaBundleStore(redis), dispatcher, dispatcherOptions);
  const now = deps.now ?? Date.now;
  // The per-trigger gates (coalesce, ordered, rateLimit) and the per-host limit; a lease outlasts
  // the longest attempt and its record, so only a dead worker's lease ever expires.
  const gateStore = new DeliveryGateStore(redis);
  const triggerGates = new DeliveryGates({
    store: gateStore,
    queueFor: (namespace, repository) => deliveries.forRepository(namespace, repository),
    leaseMs: env.DELIVERY_TIMEOUT_MS + 10_000,
    hostPerSecond: env.DELIVERY_HOST_RATE_LIMIT,
    onError: (error) => logger?.warn({ err: error }, 'delivery gate: waking a waiting delivery failed'),
  });

  const evaluate = createPushEventProcessor({
    triggers,
    records,
    deliveries,
    gates: gateStore,
    region: env.REGION,
    timeZone: env.PAYLOAD_TIMEZONE,
    policy,
    metrics,
    now,
  });
  // Each attempt of a delivery with retries is claimed, so a cancel accepted is never followed by a send.
  const states = new DeliveryStates(redis);
  const claimMs = env.WORKER_LOCK_DURATION_MS + env.DELIVERY_TIMEOUT_MS;
  const deliver = withCancellation(
    states,
    claimMs,
    createDeliveryProcessor({
      triggers,
      repositories: new RepositoryStore(redis),
      records,
      dispatcher,
      dispatcherFor: (namespace, url) => caDispatchers.forDelivery(namespace, url),
      gates: [originGuardGate(guard), triggerGatesStep(triggerGates), ...(deps.gates ?? [])],
      policy,
      region: env.REGION,
      timeZone: env.PAYLOAD_TIMEZONE,
      allowPrivateNetworks: env.DELIVERY_ALLOW_PRIVATE_NETWORKS,
      timeoutMs: env.DELIVERY_TIMEOUT_MS,
      autoDisableAfterMs: env.TRIGGER_AUTO_DISABLE_AFTER_MS,
      metrics,
      claims: replicated && { redis, ...replicated, lockDurationMs: env.WORKER_LOCK_DURATION_MS },
      traceHeaders: deps.tracer ? traceHeaders : undefined,
      writeRetryDelaysMs: deps.writeRetryDelaysMs,
      beforeRetryRecord: claimBeforeRetryRecord(states, claimMs),
      now,
    }),
  );
  const processDelivery = deps.tracer ? tracedDelivery(deps.tracer, deliver) : deliver;
  const processPushEvent = deps.tracer ? tracedPushEvaluation(deps.tracer, evaluate) : evaluate;
  const recordLostDelivery = createLostDeliveryRecorder({
    triggers,
    settler: createSettler({ triggers, records, metrics, now }),
    now,
  });

  const runtime: WorkerRuntime = {
    metrics,
    guard,
    processDelivery,
    processPushEvent,
    workers: undefined,
    partitions: env.WORKER_PARTITIONS ?? Array.from({ length: partitionCount }, (_, i) => i),
    start() {
      const workers = startWorkers({
        connection: redis,
        partitions: runtime.partitions,
        evaluationConcurrency: env.EVALUATION_CONCURRENCY,
        deliveryConcurrency: env.WORKER_CONCURRENCY,
        policy,
        lockDurationMs: env.WORKER_LOCK_DURATION_MS,
        processPushEvent,
        processDelivery,
        onError: (queue, error) => logger?.warn({ queue, err: error.message }, 'worker error'),
        onDeliveryLost: (job) => recordLostDelivery(job),
      });
      if (logger) logJobRuns(workers.workers, logger);
      runtime.workers = workers;
      return workers;
    },
    async close() {
      await runtime.workers?.close();
      await Promise.all([deliveries.close(), pushEvents.close()]);
      await Promise.all([dispatcher.close(), caDispatchers.close()]);
    },
  };
  return runtime;
}
