/**
 * Acknowledge only what a replica holds. Redis replication is asynchronous: a write a
 * master acknowledged just before dying can be missing on the replica that takes over.
 * WAIT on the master that owns a key's slot blocks until that many replicas have every
 * write sent before it on that connection.
 */
import { createRequire } from 'node:module';
import { Cluster } from 'ioredis';
import type { RedisConnection } from './connection.js';

// ioredis's own slot function; the package ships no types, so it is typed here.
const calculateSlot = createRequire(import.meta.url)('cluster-key-slot') as (key: string) => number;

export class ReplicationTimeoutError extends Error {
  constructor(
    readonly wanted: number,
    readonly reached: number,
  ) {
    super(`the write reached ${reached} of ${wanted} replicas in time`);
    this.name = 'ReplicationTimeoutError';
  }
}

/** Resolves once `replicas` replicas acknowledged the writes to `keyInSlot`'s master; throws when they did not in time. */
export async function waitForReplicas(
  redis: RedisConnection,
  keyInSlot: string,
  replicas: number,
  timeoutMs: number,
): Promise<void> {
  if (replicas <= 0) return;
  let reached: number;
  if (redis instanceof Cluster) {
    const master = redis.slots[calculateSlot(keyInSlot)]?.[0];
    const node = redis
      .nodes('master')
      .find((candidate) => `${candidate.options.host}:${candidate.options.port}` === master);
    if (!node) throw new Error(`CLUSTERDOWN no master known for ${keyInSlot}`);
    reached = await node.wait(replicas, timeoutMs);
  } else {
    reached = await redis.wait(replicas, timeoutMs);
  }
  if (reached < replicas) throw new ReplicationTimeoutError(replicas, reached);
}
