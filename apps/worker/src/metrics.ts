import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface WorkerMetrics {
  attempts: Counter<'outcome'>;
  attemptSeconds: Histogram;
  evaluations: Counter<'outcome'>;
  untriggered: Counter;
  queueDepth: Gauge<'queue' | 'state'>;
  resumed: Counter<'status'>;
  postponed: Counter<'reason'>;
  openCircuits: Gauge<'state'>;
}

export interface MetricSources {
  /** Job counts per queue and state, read at scrape time. */
  queueDepths: () => Promise<Array<{ queue: string; state: string; count: number }>>;
  circuits: () => Array<{ state: string }>;
}

export function createWorkerMetrics(registry: Registry, sources?: MetricSources): WorkerMetrics {
  return {
    attempts: new Counter({
      name: 'delivery_attempts_total',
      help: 'Delivery records by status (succeeded, retrying, failed): one per attempt, and a failed one for a delivery ended unsent because its trigger was disabled or deleted',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    attemptSeconds: new Histogram({
      name: 'delivery_attempt_seconds',
      help: 'Duration of one delivery attempt',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    evaluations: new Counter({
      name: 'push_evaluations_total',
      help: 'Push events evaluated, by whether any trigger matched',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    untriggered: new Counter({
      name: 'untriggered_records_total',
      help: 'Untriggered records written',
      registers: [registry],
    }),
    resumed: new Counter({
      name: 'delivery_attempts_found_recorded_total',
      help: 'Jobs run again after a stall whose attempt had been sent and recorded: ended as recorded, not sent again',
      labelNames: ['status'],
      registers: [registry],
    }),
    postponed: new Counter({
      name: 'delivery_postponed_total',
      help: 'Deliveries postponed without an attempt: their receiver saturated or its circuit open, or (unreplicated) their claim not yet on a replica',
      labelNames: ['reason'],
      registers: [registry],
    }),
    openCircuits: new Gauge({
      name: 'delivery_circuits',
      help: 'Receiver endpoints (trigger URLs) whose circuit breaker is open or half-open',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        if (!sources) return;
        this.reset();
        for (const { state } of sources.circuits()) this.inc({ state });
      },
    }),
    queueDepth: new Gauge({
      name: 'queue_jobs',
      help: 'Jobs per queue and state, read when scraped',
      labelNames: ['queue', 'state'],
      registers: [registry],
      async collect() {
        if (!sources) return;
        this.reset();
        for (const { queue, state, count } of await sources.queueDepths()) this.inc({ queue, state }, count);
      },
    }),
  };
}
