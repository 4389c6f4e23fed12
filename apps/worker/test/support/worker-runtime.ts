/** The worker as main.ts wires it (createWorkerRuntime), on a test's Redis, for the worker's suites. */
import type { RedisConnection } from '@registry-triggers/store';
import { Registry } from 'prom-client';
import { workerEnvSchema } from '../../src/env.js';
import { createWorkerRuntime, type WorkerRuntimeDeps } from '../../src/runtime.js';

/**
 * Loopback receivers allowed, one queue partition; `env` sets any other variable as the
 * process would read it, `overrides` any other dependency (a guard with small limits).
 */
export function testWorkerRuntime(
  redis: RedisConnection,
  env: Record<string, string> = {},
  overrides: Partial<Omit<WorkerRuntimeDeps, 'env' | 'redis'>> = {},
) {
  return createWorkerRuntime({
    env: workerEnvSchema.parse({
      REDIS_URL: 'redis://unused.invalid:6379',
      DELIVERY_ALLOW_PRIVATE_NETWORKS: 'true',
      DELIVERY_CONNECT_TIMEOUT_MS: '2000',
      DELIVERY_TIMEOUT_MS: '5000',
      ...env,
    }),
    redis,
    registry: new Registry(),
    ...overrides,
  });
}
