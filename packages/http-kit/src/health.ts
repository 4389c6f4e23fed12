import type { RedisConnection } from '@registry-triggers/store';
import { Router as createRouter, type RequestHandler, type Router } from 'express';

/** What /readyz answers: ready or not, and a body that names what the app depends on. */
export interface Readiness {
  ready: boolean;
  body: Record<string, unknown> & { status: string };
}

/** Settles with `fallback` past the deadline; the late answer, or failure, is dropped. */
export function withDeadline<T>(work: Promise<T>, timeoutMs: number, fallback: T): Promise<T> {
  work.catch(() => {});
  return Promise.race([work, new Promise<T>((resolve) => setTimeout(resolve, timeoutMs, fallback).unref())]);
}

/** The readiness of an app that needs only Redis to answer (the logs app). */
export function redisAnswers(redis: RedisConnection, timeoutMs = 500): () => Promise<Readiness> {
  return async () => {
    const ready = await withDeadline(
      redis.ping().then(
        () => true,
        () => false,
      ),
      timeoutMs,
      false,
    );
    return ready
      ? { ready, body: { status: 'ready', redis: 'answering' } }
      : { ready, body: { status: 'redis unreachable', redis: 'unreachable' } };
  };
}

/**
 * `/healthz`: the process runs. `/readyz`: what the app depends on works (by default, Redis
 * answers within a short deadline); the body says what was checked. By operationId, for
 * the route table (route-table.ts).
 */
export function healthHandlers(
  redis: RedisConnection,
  timeoutMs = 500,
  readiness: () => Promise<Readiness> = redisAnswers(redis, timeoutMs),
): { getHealth: RequestHandler; getReadiness: RequestHandler } {
  return {
    getHealth: (_req, res) => {
      res.json({ status: 'ok' });
    },
    getReadiness: async (_req, res, next) => {
      try {
        const { ready, body } = await readiness();
        res.status(ready ? 200 : 503).json(body);
      } catch (error) {
        next(error);
      }
    },
  };
}

/** The same two routes as a router, for a process without a route table (the worker). */
export function healthRoutes(
  redis: RedisConnection,
  timeoutMs = 500,
  readiness: () => Promise<Readiness> = redisAnswers(redis, timeoutMs),
): Router {
  const router = createRouter();
  const handlers = healthHandlers(redis, timeoutMs, readiness);
  router.get('/healthz', handlers.getHealth);
  router.get('/readyz', handlers.getReadiness);
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
