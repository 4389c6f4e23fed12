import type { RedisConnection } from '@registry-triggers/store';
import { Router as createRouter, type Router } from 'express';

/** `/healthz`: the process runs. `/readyz`: Redis answers within a short deadline. */
export function healthRoutes(redis: RedisConnection, timeoutMs = 500): Router {
  const router = createRouter();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const ping = redis.ping();
    ping.catch(() => {});
    const ready = await Promise.race([
      ping.then(() => true).catch(() => false),
      new Promise<boolean>((resolve) => setTimeout(resolve, timeoutMs, false).unref()),
    ]);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'redis unreachable' });
  });
  return router;
}

/**
 * Waits (up to a deadline) for the first Redis connection, so a process that starts
 * alongside Redis does not answer its first requests with 503. Past the deadline the
 * process starts anyway: /readyz tells, and requests answer 503 until Redis is there.
 */
export async function awaitFirstConnection(redis: RedisConnection, timeoutMs = 5000): Promise<boolean> {
  if (redis.status === 'ready') return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    timer.unref();
    const onReady = () => done(true);
    function done(ready: boolean) {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ready);
    }
    redis.once('ready', onReady);
  });
}
