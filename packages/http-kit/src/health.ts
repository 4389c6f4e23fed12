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
