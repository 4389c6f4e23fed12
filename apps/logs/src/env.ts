import { logEnvSchema, parseEnv, tokenListSetting } from '@registry-triggers/http-kit';
import { redisEnvSchema } from '@registry-triggers/store';
import { z } from 'zod';

export const logsEnvSchema = redisEnvSchema.extend(logEnvSchema.shape).extend({
  LOGS_PORT: z.coerce.number().int().min(0).max(65535).default(8081),
  LOGS_HOST: z.string().default('0.0.0.0'),
  ADMIN_TOKEN: tokenListSetting(),
  /** Optional here: known only so that it gets 403 (a token without the right), not 401. */
  INGEST_TOKEN: tokenListSetting().optional(),
  /** Live-tail streams open at once in the process (streams of one namespace share one Redis connection). */
  LOGS_MAX_STREAMS: z.coerce.number().int().min(1).default(100),
  /**
   * The api's base URL: `/v1/*` routes this app does not serve are forwarded there, so the
   * console at `/` manages everything from one address. Unset: nothing is forwarded.
   */
  CONSOLE_API_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http or https URL, e.g. http://127.0.0.1:8080' })
    .optional(),
  /** Longest wait for the api's answer to begin (a trigger test waits up to 30 s), or a body to move. */
  CONSOLE_API_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(40_000),
  /** Live-tail streams one namespace's tokens may hold open at once (the admin token: LOGS_MAX_STREAMS only). */
  LOGS_MAX_STREAMS_PER_NAMESPACE: z.coerce.number().int().min(1).default(10),
  /** Bytes that may wait for a live-tail client that does not read before its stream is cut off. */
  LOGS_STREAM_BUFFER_BYTES: z.coerce
    .number()
    .int()
    .min(16_384)
    .default(256 * 1024),
  REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(50).default(2000),
});
export type LogsEnv = z.infer<typeof logsEnvSchema>;

export const readLogsEnv = (source: NodeJS.ProcessEnv = process.env): LogsEnv =>
  parseEnv(logsEnvSchema, source);
