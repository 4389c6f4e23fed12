import { Counter, Histogram, type Registry } from 'prom-client';

export interface ApiMetrics {
  events: Counter<'outcome'>;
  enqueueSeconds: Histogram;
}

export function createApiMetrics(registry: Registry): ApiMetrics {
  return {
    events: new Counter({
      name: 'push_events_total',
      help: 'Push events received, by outcome (accepted, duplicate, ignored)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    enqueueSeconds: new Histogram({
      name: 'push_event_enqueue_seconds',
      help: 'Time to put one ingest request durably into the queue',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
  };
}
