/**
 * The one Redis connection factory of every app and of BullMQ. A single server
 * (`REDIS_URL`) gives a plain client; `REDIS_CLUSTER_NODES` gives an ioredis Cluster.
 */
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { z } from 'zod';
import { batchWritesPerTurn } from './write-batching.js';

export type RedisConnection = Redis | Cluster;

export const redisEnvSchema = z.object({
  REDIS_URL: z
    .string()
    .url()
    .regex(/^rediss?:\/\//i, 'must be a redis:// or rediss:// URL')
    .default('redis://127.0.0.1:6379'),
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

/**
 * While a master fails over (its replica takes over after the node timeout, seconds later)
 * every node answers CLUSTERDOWN, MOVED to the dead master, or the connection drops, and
 * ioredis retries the command after a delay until `maxRedirections` is spent. A worker
 * waits the failover out, as it waits out a single server's outage: a BullMQ command that
 * gave up would leave its job active until the lock expires and another worker ran it
 * again (a second delivery). A request handler gives up within a few hundred ms and
 * answers 503.
 */
function clusterRetries(role: ConnectionRole): Partial<ClusterOptions> {
  return role === 'worker'
    ? {
        retryDelayOnFailover: 200,
        retryDelayOnClusterDown: 200,
        retryDelayOnTryAgain: 200,
        maxRedirections: Number.POSITIVE_INFINITY,
      }
    : { retryDelayOnFailover: 50, retryDelayOnClusterDown: 50, retryDelayOnTryAgain: 50, maxRedirections: 6 };
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
      ...clusterRetries(options.role),
    };
    const cluster = new Cluster(parseClusterNodes(env.REDIS_CLUSTER_NODES), clusterOptions);
    batchWritesPerTurn(cluster);
    return cluster;
  }
  const client = new Redis(env.REDIS_URL, redisOptions);
  batchWritesPerTurn(client);
  return client;
}

/**
 * True when Redis refused a write because it reached `maxmemory` under the `noeviction`
 * policy (the one a queue must run with): a state that passes once memory frees, like an
 * outage, not a bug. Inside a script the same refusal comes wrapped in the script's error.
 */
export function isRedisOutOfMemory(error: unknown): boolean {
  return error instanceof Error && /\bOOM command not allowed\b/.test(error.message);
}

/** True while the error means "Redis is not reachable right now" rather than a bug. */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const message = error.message;
  return (
    /enableOfflineQueue|Connection is closed|Command timed out|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|max retries per request|Stream isn't writeable|CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|None of startup nodes is available|Failed to refresh slots cache|Too many Cluster redirections/i.test(
      message,
    ) ||
    // A redirection still unresolved when the retries ran out (a pipeline hands back the
    // reply itself): the slot's master is changing, as during a failover.
    /^(MOVED|ASK) \d+ /.test(message) ||
    // The connection closed in the middle of a pipeline or MULTI (BullMQ's addBulk): the
    // commands after the last reply are aborted, not resent, as they may have run.
    /Command aborted due to connection close/.test(message) ||
    error.name === 'MaxRetriesPerRequestError'
  );
}
