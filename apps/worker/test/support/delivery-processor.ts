/** The delivery processor as main.ts builds it, on a real Redis and a real HTTP dispatcher, for the worker's suites. */
import { defaultRetryPolicy } from '@registry-triggers/core';
import { RecordStore, type RedisConnection, RepositoryStore, TriggerStore } from '@registry-triggers/store';
import { Registry } from 'prom-client';
import { createDeliveryProcessor, type DeliverDeps } from '../../src/deliver.js';
import { createDeliveryDispatcher } from '../../src/http-delivery.js';
import { createWorkerMetrics } from '../../src/metrics.js';
import { OriginGuard } from '../../src/origin-guard.js';

/** Loopback receivers allowed; `overrides` replace any dependency (a guard with small limits, shared metrics). */
export function deliveryProcessorFor(redis: RedisConnection, overrides: Partial<DeliverDeps> = {}) {
  const dispatcher = createDeliveryDispatcher({
    allowPrivateNetworks: true,
    connectTimeoutMs: 2000,
    timeoutMs: 5000,
  });
  const process = createDeliveryProcessor({
    triggers: new TriggerStore(redis),
    repositories: new RepositoryStore(redis),
    records: new RecordStore(redis),
    dispatcher,
    guard: new OriginGuard({ maxInFlight: 8 }),
    policy: defaultRetryPolicy,
    region: 'local',
    timeZone: 'UTC',
    allowPrivateNetworks: true,
    timeoutMs: 5000,
    metrics: createWorkerMetrics(new Registry()),
    ...overrides,
  });
  return { process, dispatcher };
}
