import {
  logEnvSchema,
  MAX_ENVELOPE_EVENTS_CEILING,
  parseEnv,
  tokenListSetting,
  tracingEnvSchema,
} from '@registry-triggers/http-kit';
import { queueEnvSchema, redisEnvSchema } from '@registry-triggers/store';
import { z } from 'zod';

export const apiEnvSchema = redisEnvSchema
  .extend(logEnvSchema.shape)
  .extend(queueEnvSchema.shape)
  .extend(tracingEnvSchema.shape)
  .extend({
    API_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    API_HOST: z.string().default('0.0.0.0'),
    ADMIN_TOKEN: tokenListSetting(),
    INGEST_TOKEN: tokenListSetting(),
    TRIGGERS_PER_REPOSITORY: z.coerce.number().int().min(1).max(10_000).default(100),
    /** Quotas of one namespace (quotas.ts): more is 409, or a push refused in the 202. */
    REPOSITORIES_PER_NAMESPACE: z.coerce.number().int().min(1).max(1_000_000).default(1000),
    TRIGGERS_PER_NAMESPACE: z.coerce.number().int().min(1).max(1_000_000).default(1000),
    MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(5 * 1024 * 1024),
    /**
     * Events one distribution envelope may hold (more: 413). The default is measured to be
     * taken well inside the registry's 1 s notification timeout (docs/registries.md).
     */
    MAX_EVENTS_PER_ENVELOPE: z.coerce.number().int().min(1).max(MAX_ENVELOPE_EVENTS_CEILING).default(500),
    /** A push request not taken by then is answered 503 (a resend is exact): before the registry's 1 s timeout. */
    INGEST_DEADLINE_MS: z.coerce.number().int().min(50).max(60_000).default(800),
    /** How long `POST .../test` waits for the worker to report the delivery. */
    TEST_DELIVERY_WAIT_MS: z.coerce.number().int().min(100).default(30_000),
    /** `POST .../test` requests one token may make per minute (sliding), counted in Redis across replicas. */
    TEST_DELIVERIES_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(20),
    REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(50).default(500),
    /** Replicas that must hold an event before 202; default 1 on a Redis Cluster, 0 on a single server. */
    INGEST_MIN_REPLICAS: z.coerce.number().int().min(0).max(5).optional(),
    INGEST_REPLICA_TIMEOUT_MS: z.coerce.number().int().min(10).max(10_000).default(500),
  });
export type ApiEnv = z.infer<typeof apiEnvSchema>;

export const readApiEnv = (source: NodeJS.ProcessEnv = process.env): ApiEnv => parseEnv(apiEnvSchema, source);
