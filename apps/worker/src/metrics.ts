import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface WorkerMetrics {
  attempts: Counter<'outcome' | 'status_class'>;
  attemptSeconds: Histogram;
  pushToDeliverySeconds: Histogram;
  triggersDisabled: Counter<'reason'>;
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

/** The bounded class of a record's statusCode: an HTTP status class, `error` (no answer) or `unsent`. */
export function statusClass(statusCode: string): string {
  if (/^[1-5]\d\d$/.test(statusCode)) return `${statusCode[0]}xx`;
  return statusCode.startsWith('TRIGGER_') || statusCode === 'WORKER_LOST' ? 'unsent' : 'error';
}

export function createWorkerMetrics(registry: Registry, sources?: MetricSources): WorkerMetrics {
  return {
    attempts: new Counter({
      name: 'delivery_attempts_total',
      help: 'Delivery records by status (succeeded, retrying, failed) and status class (2xx to 5xx, error: no answer, unsent): one per attempt, and a failed unsent one for a delivery ended because its trigger was disabled or deleted',
      labelNames: ['outcome', 'status_class'],
      registers: [registry],
    }),
    attemptSeconds: new Histogram({
      name: 'delivery_attempt_seconds',
      help: 'Duration of one delivery attempt',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    pushToDeliverySeconds: new Histogram({
      name: 'delivery_push_to_delivery_seconds',
      help: 'From the api taking a push to a receiver answering 2xx for it (retries included)',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
      registers: [registry],
    }),
    triggersDisabled: new Counter({
      name: 'triggers_disabled_total',
      help: 'Triggers disabled by a delivery: its receiver answered 410 (gone), or it failed for TRIGGER_AUTO_DISABLE_AFTER_MS (auto-disable)',
      labelNames: ['reason'],
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
      help: 'Deliveries postponed without an attempt: their receiver saturated or its circuit open, (unreplicated) their claim not yet on a replica, or (unrecorded) the record of their answered attempt refused by Redis, kept on the job to be written on the next run',
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
        // Both states always have a series: a dashboard shows 0, not "no data", when all is well.
        for (const state of ['open', 'half-open']) this.set({ state }, 0);
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
