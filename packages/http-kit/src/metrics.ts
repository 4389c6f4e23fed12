/** Prometheus metrics: one registry per process, with Node defaults and HTTP request metrics. */
import type { RequestHandler } from 'express';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export function createMetricsRegistry(app: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry });
  return registry;
}

export function httpMetrics(registry: Registry): RequestHandler {
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return (req, res, next) => {
    const end = duration.startTimer();
    res.on('finish', () => {
      // The matched route pattern, not the raw path, keeps label cardinality bounded.
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      requests.inc({ method: req.method, route, status: String(res.statusCode) });
      end({ method: req.method, route });
    });
    next();
  };
}

export function metricsRoute(registry: Registry): RequestHandler {
  return async (_req, res, next) => {
    try {
      res.type(registry.contentType).send(await registry.metrics());
    } catch (error) {
      next(error);
    }
  };
}

/**
 * `redis_up` and `redis_roundtrip_seconds`: a PING when scraped, bounded by a deadline, so
 * every app tells whether its Redis answers and how fast.
 */
export function redisMetrics(
  registry: Registry,
  redis: { ping(): Promise<unknown> },
  timeoutMs = 1000,
): void {
  let last: Promise<number | undefined> | undefined;
  // Both gauges of one scrape share one PING.
  const measure = () => {
    last ??= (async () => {
      const started = process.hrtime.bigint();
      const answered = await Promise.race([
        redis.ping().then(
          () => true,
          () => false,
        ),
        new Promise<boolean>((resolve) => setTimeout(resolve, timeoutMs, false).unref()),
      ]);
      return answered ? Number(process.hrtime.bigint() - started) / 1e9 : undefined;
    })().finally(() => {
      setImmediate(() => {
        last = undefined;
      });
    });
    return last;
  };
  new Gauge({
    name: 'redis_up',
    help: 'Whether Redis answered a PING within a second when scraped (1) or not (0)',
    registers: [registry],
    async collect() {
      this.set((await measure()) === undefined ? 0 : 1);
    },
  });
  new Gauge({
    name: 'redis_roundtrip_seconds',
    help: 'Round trip of a PING to Redis when scraped (0 while it does not answer: see redis_up)',
    registers: [registry],
    async collect() {
      const seconds = await measure();
      this.reset();
      if (seconds !== undefined) this.set(seconds);
    },
  });
}
