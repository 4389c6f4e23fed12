/**
 * The one Redis connection factory of every app and of BullMQ. A single server
 * (`REDIS_URL`) gives a plain client; `REDIS_CLUSTER_NODES` gives an ioredis Cluster.
 */
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { z } from 'zod';

export type RedisConnection = Redis | Cluster;

export const redisEnvSchema = z.object({
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  REDIS_CLUSTER_NODES: z
    .string()
    .regex(/^[^,:\s]+:\d+(,[^,:\s]+:\d+)*$/, 'must be comma-separated host:port pairs')
    .optional(),
});
export type RedisEnv = z.infer<typeof redisEnvSchema>;

/**
 * `fail-fast`: for request handlers (api producers, reads). Commands fail at once
 * while Redis is unreachable instead of queueing, so callers can answer 503.
 * `worker`: for BullMQ workers and blocking reads, which must wait out outages.
 */
export type ConnectionRole = 'fail-fast' | 'worker';

export interface ConnectionOptions {
  role: ConnectionRole;
  /** Fail-fast command timeout; well under a second so a hung Redis cannot hang a request. */
  commandTimeoutMs?: number;
  name?: string;
}

// Reconnect quickly at first, then every 2 s: outages are survived, not fatal.
const retryStrategy = (times: number) => Math.min(50 * 2 ** times, 2000);

function clientOptions(options: ConnectionOptions): RedisOptions {
  const base: RedisOptions = {
    retryStrategy,
    connectionName: options.name ?? 'registry-triggers',
    // BullMQ requires maxRetriesPerRequest null on connections that block.
    maxRetriesPerRequest: options.role === 'worker' ? null : 1,
    enableOfflineQueue: options.role === 'worker',
    lazyConnect: false,
  };
  if (options.role === 'fail-fast') base.commandTimeout = options.commandTimeoutMs ?? 500;
  return base;
}

export function parseClusterNodes(nodes: string): Array<{ host: string; port: number }> {
  return nodes.split(',').map((pair) => {
    const at = pair.lastIndexOf(':');
    return { host: pair.slice(0, at), port: Number(pair.slice(at + 1)) };
  });
}

export function createRedis(env: RedisEnv, options: ConnectionOptions): RedisConnection {
  const redisOptions = clientOptions(options);
  if (env.REDIS_CLUSTER_NODES) {
    const clusterOptions: ClusterOptions = {
      redisOptions,
      clusterRetryStrategy: retryStrategy,
      enableOfflineQueue: redisOptions.enableOfflineQueue ?? true,
      // BullMQ's scripts address keys under one hash tag: keep slot refreshes quick on failover.
      slotsRefreshTimeout: 2000,
      scaleReads: 'master',
    };
    return new Cluster(parseClusterNodes(env.REDIS_CLUSTER_NODES), clusterOptions);
  }
  return new Redis(env.REDIS_URL, redisOptions);
}

/** True while the error means "Redis is not reachable right now" rather than a bug. */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const message = error.message;
  return (
    /enableOfflineQueue|Connection is closed|Command timed out|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|max retries per request|Stream isn't writeable|CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|None of startup nodes is available|Failed to refresh slots cache/i.test(
      message,
    ) || error.name === 'MaxRetriesPerRequestError'
  );
}
