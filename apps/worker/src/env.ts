import { isValidTimeZone } from '@registry-triggers/core';
import { envFlag, logEnvSchema, parseEnv, tracingEnvSchema } from '@registry-triggers/http-kit';
import { queueEnvSchema, redisEnvSchema, retentionEnvSchema } from '@registry-triggers/store';
import { z } from 'zod';

export const workerEnvSchema = redisEnvSchema
  .extend(logEnvSchema.shape)
  .extend(queueEnvSchema.shape)
  .extend(retentionEnvSchema.shape)
  .extend(tracingEnvSchema.shape)
  .extend({
    REGION: z.string().min(1).max(64).default('local'),
    PAYLOAD_TIMEZONE: z
      .string()
      .default('UTC')
      .refine(isValidTimeZone, 'must be an IANA time zone such as UTC or Asia/Shanghai'),
    DELIVERY_ALLOW_PRIVATE_NETWORKS: envFlag().default(false),
    /** Deliveries in flight per worker process (the benchmark in bench/ chose it). */
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(64),
    /** Push events evaluated at once per worker process. */
    EVALUATION_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(16),
    DELIVERY_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
    /** Whole attempt: connect, send, response headers and the kept part of the body. */
    DELIVERY_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    /**
     * Ceiling of the attempts in flight to one receiver origin in this process (default:
     * WORKER_CONCURRENCY). Each origin starts lower and earns its slots by answering.
     */
    DELIVERY_MAX_IN_FLIGHT_PER_ORIGIN: z.coerce.number().int().min(1).optional(),
    /**
     * Deliveries a second to one receiver host (host:port as the trigger URL names it), across
     * every trigger, namespace and worker process; unset: no limit. A delivery beyond it waits
     * without using an attempt (its record: reason rate-limited).
     */
    DELIVERY_HOST_RATE_LIMIT: z.coerce.number().min(0.1).max(100_000).optional(),
    /** How long a job stays locked by a worker that stopped answering before another takes it over. */
    WORKER_LOCK_DURATION_MS: z.coerce.number().int().min(1000).default(30_000),
    /** Disable a trigger whose deliveries have failed without a success for this long; 0 never does. */
    TRIGGER_AUTO_DISABLE_AFTER_MS: z.coerce.number().int().min(0).default(0),
    /**
     * Replicas that must hold a delivery's claim before its request goes out, and its record
     * before the job completes (`WAIT`); default 1 on a Redis Cluster, 0 on a single server.
     */
    DELIVERY_MIN_REPLICAS: z.coerce.number().int().min(0).max(5).optional(),
    /** `/metrics`, `/healthz` and `/readyz`: on by default, as on the api and the logs app. */
    WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
    // Metrics name queues and trigger outcomes: off the network unless an operator says so.
    WORKER_METRICS_HOST: z.string().default('127.0.0.1'),
    SHUTDOWN_DEADLINE_MS: z.coerce.number().int().min(100).default(30_000),
    /**
     * The queue partitions this process consumes, e.g. `0,2` (default: every one). Each
     * partition needs at least one worker that consumes it, or its events wait.
     */
    WORKER_PARTITIONS: z
      .string()
      .regex(/^\d+(,\d+)*$/, 'must be comma-separated partition numbers such as 0,2')
      .transform((list) => [...new Set(list.split(',').map(Number))].sort((a, b) => a - b))
      .optional(),
  })
  .superRefine((env, ctx) => {
    // zod runs this even when a field failed, with that field's raw text: only a parsed list counts.
    if (!Array.isArray(env.WORKER_PARTITIONS)) return;
    // On a cluster without QUEUE_PARTITIONS the count is known once Redis answers (main.ts).
    if (env.QUEUE_PARTITIONS === undefined && env.REDIS_CLUSTER_NODES) return;
    const message = missingPartition(env.WORKER_PARTITIONS, env.QUEUE_PARTITIONS ?? 1);
    if (message) ctx.addIssue({ code: 'custom', path: ['WORKER_PARTITIONS'], message });
  });

/** Why WORKER_PARTITIONS names a partition that `partitions` does not have, if it does. */
export function missingPartition(consumed: number[], partitions: number): string | undefined {
  const missing = consumed.find((partition) => partition >= partitions);
  return missing === undefined
    ? undefined
    : `there is no partition ${missing}: QUEUE_PARTITIONS=${partitions} has partitions 0 to ${partitions - 1}`;
}
export type WorkerEnv = z.infer<typeof workerEnvSchema>;

export const readWorkerEnv = (source: NodeJS.ProcessEnv = process.env): WorkerEnv =>
  parseEnv(workerEnvSchema, source);
