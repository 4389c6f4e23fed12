/**
 * Acknowledge only what a replica holds (replica-wait.ts says how): the settings, the
 * start-up check, and the ReplicaWait of a connection for callers given only the connection.
 */
import { Cluster } from 'ioredis';
import type { RedisConnection } from './connection.js';
import { ReplicaWait, type SlotMaster } from './replica-wait.js';

export {
  ReplicationTimeoutError,
  ReplicaWait,
  type ReplicaWaitSettings,
  type SlotMaster,
  slotMaster,
} from './replica-wait.js';

// The ReplicaWait of a connection for callers that are given the connection rather than the
// wait itself (waitForReplicas below): the one registry, so those callers and the ones handed
// replicaWaitOf(redis) share rounds. New code passes the ReplicaWait.
const waitsByConnection = new WeakMap<RedisConnection, ReplicaWait>();

/** The one ReplicaWait of `redis` (made on first use). */
export function replicaWaitOf(redis: RedisConnection): ReplicaWait {
  let wait = waitsByConnection.get(redis);
  if (!wait) {
    wait = new ReplicaWait(redis);
    waitsByConnection.set(redis, wait);
  }
  return wait;
}

/**
 * `replicaWaitOf(redis).wait(...)` with these settings: for callers that hold the connection.
 * See ReplicaWait.wait.
 */
export function waitForReplicas(
  redis: RedisConnection,
  keyInSlot: string,
  replicas: number,
  timeoutMs: number,
  wroteVia?: SlotMaster | null,
): Promise<void> {
  return replicaWaitOf(redis).wait(keyInSlot, wroteVia, { replicas, timeoutMs });
}

/**
 * A replica-wait setting (INGEST_MIN_REPLICAS, DELIVERY_MIN_REPLICAS) as it applies: the value
 * given, else 1 on a Redis Cluster, where a failover must lose nothing, and 0 on one server.
 */
export function minReplicasFor(
  setting: number | undefined,
  env: { REDIS_CLUSTER_NODES?: string | undefined },
) {
  return setting ?? (env.REDIS_CLUSTER_NODES ? 1 : 0);
}

/**
 * The replicas a single server has now (INFO replication) when they are fewer than `wanted`,
 * else undefined: also on a cluster, whose replicas are counted per master as writes are made,
 * and when the server does not answer. For a warning at start-up: an app asked to wait for
 * more replicas than there are would answer every write late (503, or a delivery held) until
 * they are attached.
 */
export async function replicasBelow(redis: RedisConnection, wanted: number): Promise<number | undefined> {
  if (wanted <= 0 || redis instanceof Cluster) return undefined;
  try {
    const info = await redis.info('replication');
    const count = /^connected_slaves:(\d+)/m.exec(info)?.[1];
    return count !== undefined && Number(count) < wanted ? Number(count) : undefined;
  } catch {
    return undefined;
  }
}
