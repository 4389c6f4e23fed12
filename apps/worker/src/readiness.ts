/**
 * The worker's /readyz (on the metrics port): ready while it can take jobs, that is while
 * Redis answers and every one of its BullMQ workers runs (not yet started, closing after a
 * SIGTERM, or stopped by an error: not ready).
 */
import { type Readiness, redisAnswers } from '@registry-triggers/http-kit';
import type { RedisConnection } from '@registry-triggers/store';
import type { Worker } from 'bullmq';

export function workerReadiness(
  redis: RedisConnection,
  workers: () => Worker[] | undefined,
  timeoutMs = 500,
): () => Promise<Readiness> {
  const redisReady = redisAnswers(redis, timeoutMs);
  return async () => {
    const running = workers() ?? [];
    const taking = running.length > 0 && running.every((worker) => worker.isRunning() && !worker.closing);
    const { ready, body } = await redisReady();
    const consumers = running.length === 0 ? 'not started' : taking ? 'taking jobs' : 'stopping';
    if (!ready) return { ready: false, body: { ...body, consumers } };
    return taking
      ? { ready: true, body: { status: 'ready', redis: 'answering', consumers } }
      : { ready: false, body: { status: 'not taking jobs', redis: 'answering', consumers } };
  };
}
