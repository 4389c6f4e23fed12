/**
 * Who is alive, as Redis sees it: each worker process beats into one sorted set, and the
 * api counts the beats of the last few seconds, so an operator sees a stack with no worker
 * (its pushes queue up, nothing delivers them) in the api's /readyz and metrics.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { RedisConnection } from './connection.js';
import { keys } from './keys.js';

/** A worker beats this often... */
export const HEARTBEAT_INTERVAL_MS = 5_000;
/** ...and counts as alive while its last beat is younger than this. */
export const HEARTBEAT_TTL_MS = 15_000;

/** This process's name among the workers: host, pid and a random part (pids repeat across pods). */
export const newWorkerId = () => `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

export interface Heartbeat {
  /** Beats now, then every interval, until stopped. A failed beat is retried at the next one. */
  start(): void;
  /** Stops beating and leaves the set, so the api stops counting this worker at once. */
  stop(): Promise<void>;
}

export function workerHeartbeat(
  redis: RedisConnection,
  workerId: string,
  options: { intervalMs?: number; now?: () => number; onError?: (error: Error) => void } = {},
): Heartbeat {
  const now = options.now ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  const beat = () => {
    const at = now();
    redis
      .multi()
      .zadd(keys.workerHeartbeats(), at, workerId)
      // Workers that died without leaving fall out here, so the set stays as small as the fleet.
      .zremrangebyscore(keys.workerHeartbeats(), '-inf', at - 4 * HEARTBEAT_TTL_MS)
      .exec()
      .catch((error: Error) => options.onError?.(error));
  };
  return {
    start() {
      if (timer) return;
      beat();
      timer = setInterval(beat, options.intervalMs ?? HEARTBEAT_INTERVAL_MS);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await redis.zrem(keys.workerHeartbeats(), workerId).catch(() => {});
    },
  };
}

/** Workers whose last beat is younger than the TTL. */
export async function liveWorkers(
  redis: RedisConnection,
  now = Date.now(),
  ttlMs = HEARTBEAT_TTL_MS,
): Promise<number> {
  return redis.zcount(keys.workerHeartbeats(), now - ttlMs, '+inf');
}

/**
 * Whether Redis takes a write now: a short-lived SET, which a replica (READONLY), a full
 * Redis under noeviction (OOM) or a master that lost its replicas under min-replicas-to-write
 * refuses. Throws what Redis answered.
 */
export async function probeWrite(redis: RedisConnection): Promise<void> {
  await redis.set(keys.readinessProbe(), String(Date.now()), 'PX', 60_000);
}
