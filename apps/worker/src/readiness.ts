/**
 * The worker's /readyz (on the metrics port): ready while it can take jobs, that is while
 * Redis answers and every one of its BullMQ workers runs (not yet started, closing after a
 * SIGTERM, or stopped by an error: not ready).
 */
import { type Readiness, redisAnswers, withDeadline } from '@registry-triggers/http-kit';
import type { LayoutReport, RedisConnection } from '@registry-triggers/store';
import type { Worker } from 'bullmq';

export function workerReadiness(
  redis: RedisConnection,
  workers: () => Worker[] | undefined,
  timeoutMs = 500,
  layout?: () => Promise<LayoutReport>,
): () => Promise<Readiness> {
  const redisReady = redisAnswers(redis, timeoutMs);
  return async () => {
    const queues = layout && (await withDeadline(layout(), timeoutMs, undefined));
    const running = workers() ?? [];
    const taking = running.length > 0 && running.every((worker) => worker.isRunning() && !worker.closing);
    const { ready, body } = await redisReady();
    const consumers = running.length === 0 ? 'not started' : taking ? 'taking jobs' : 'stopping';
    // The partition count and the masters it spreads over; its warnings are not unreadiness.
    const extra = queues ? layoutBody(queues) : {};
    if (!ready) return { ready: false, body: { ...body, consumers, ...extra } };
    return taking
      ? { ready: true, body: { status: 'ready', redis: 'answering', consumers, ...extra } }
      : { ready: false, body: { status: 'not taking jobs', redis: 'answering', consumers, ...extra } };
  };
}

function layoutBody({ warnings, ...queues }: LayoutReport) {
  return warnings.length > 0 ? { queues, warnings } : { queues };
}
