/** How long and how many access records a namespace keeps (LOG_RETENTION_DAYS, LOG_MAX_RECORDS_PER_NAMESPACE). */
import { z } from 'zod';

export const retentionEnvSchema = z.object({
  LOG_RETENTION_DAYS: z.coerce.number().positive().max(365).default(7),
  LOG_MAX_RECORDS_PER_NAMESPACE: z.coerce.number().int().min(100).default(100_000),
});

export interface Retention {
  maxAgeMs: number;
  maxRecordsPerNamespace: number;
}

export function retentionFromEnv(env: z.infer<typeof retentionEnvSchema>): Retention {
  return {
    maxAgeMs: env.LOG_RETENTION_DAYS * 24 * 3600 * 1000,
    maxRecordsPerNamespace: env.LOG_MAX_RECORDS_PER_NAMESPACE,
  };
}

export const defaultRetention: Retention = retentionFromEnv(retentionEnvSchema.parse({}));
