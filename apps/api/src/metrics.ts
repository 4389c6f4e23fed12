import type { PartitionBacklog } from '@registry-triggers/store';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Source } from './sources/index.js';

/** Which route took an event: a bounded label (one value per ingest route). */
export type IngestSource = 'push' | 'distribution' | Source;

export interface ApiMetrics {
  events: Counter<'source' | 'outcome'>;
  enqueueSeconds: Histogram;
}

export function createApiMetrics(registry: Registry): ApiMetrics {
  return {
    events: new Counter({
      name: 'push_events_total',
      help: 'Push events received, by ingest route (source) and outcome (accepted, duplicate, ignored, refused: over a quota)',
      labelNames: ['source', 'outcome'],
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

/**
 * The backlog of both queues and the live workers, read from Redis when scraped. The api
 * reports them (every api the same numbers) so they stay visible, and rise, with no worker up.
 * While Redis is out they have no samples and the scrape still answers 200 (redis_up is 0).
 */
export function registerBacklogMetrics(
  registry: Registry,
  sources: { backlog: () => Promise<PartitionBacklog[]>; liveWorkers: () => Promise<number> },
): void {
  let last: Promise<PartitionBacklog[]> | undefined;
  // One read per scrape serves both gauges.
  const read = () => {
    last ??= sources.backlog().finally(() => {
      setImmediate(() => {
        last = undefined;
      });
    });
    return last;
  };
  new Gauge({
    name: 'queue_backlog_jobs',
    help: 'Jobs per queue, partition and state (waiting, delayed, active), read when scraped',
    labelNames: ['queue', 'partition', 'state'],
    registers: [registry],
    async collect() {
      const backlog = await read().catch(() => []);
      this.reset();
      for (const { queue, partition, counts } of backlog) {
        for (const [state, count] of Object.entries(counts))
          this.set({ queue, partition: String(partition), state }, count);
      }
    },
  });
  new Gauge({
    name: 'queue_oldest_waiting_seconds',
    help: 'Seconds since the oldest waiting job of a queue partition became due (0: none waiting)',
    labelNames: ['queue', 'partition'],
    registers: [registry],
    async collect() {
      const backlog = await read().catch(() => []);
      this.reset();
      for (const { queue, partition, oldestWaitingSeconds } of backlog)
        this.set({ queue, partition: String(partition) }, oldestWaitingSeconds);
    },
  });
  new Gauge({
    name: 'workers_alive',
    help: 'Worker processes whose heartbeat is younger than 15 s',
    registers: [registry],
    async collect() {
      // Unknown while Redis is out: no sample, rather than a failed scrape (redis_up tells why).
      const alive = await sources.liveWorkers().catch(() => undefined);
      this.reset();
      if (alive !== undefined) this.set(alive);
    },
  });
}
