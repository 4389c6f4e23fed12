/**
 * Worker processes coming and going as an operator runs them: two copies share the work
 * and deliver every event exactly once; a copy killed mid-delivery has its delivery
 * finished by another copy under the same webhook-id; SIGTERM lets an in-flight delivery
 * finish and exits 0.
 */
import type { AppProcess } from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Json, type Stack, startStack } from './support/stack.js';
import {
  digestFor,
  metricSum,
  metricsUrlOf,
  receiverPool,
  scrapeMetrics,
  triggerRecords,
  waitForIdleQueues,
} from './support/worker-kit.js';

const NS = 'processes';
/** Short locks let a crashed worker's job be taken over quickly; only the crash test needs them. */
const SHORT_LOCK = { WORKER_LOCK_DURATION_MS: '2000' };

describe('worker: several processes, crashes and shutdown', () => {
  let stack: Stack;
  const receivers = receiverPool();
  /** The one worker running between the crash test and the shutdown test. */
  let survivor: AppProcess | undefined;

  beforeAll(async () => {
    stack = await startStack({
      workers: 0,
      workerEnv: { SHUTDOWN_DEADLINE_MS: '10000' },
    });
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    await receivers.closeAll();
  });

  it('two workers on one queue: 200 events, each delivered exactly once, and both workers delivered some', async () => {
    const workers = await Promise.all([stack.startWorker(), stack.startWorker()]);
    const metricsUrls = workers.map(metricsUrlOf);
    const rx = await receivers.start();
    const repo = 'shared';
    const trigger = await stack.createTrigger(NS, repo, { name: 'all', url: rx.url, type: 'ALL' });

    const count = 200;
    const pushed = await stack.push(
      Array.from({ length: count }, (_, i) => ({
        namespace: NS,
        repository: repo,
        tag: `t-${i}`,
        digest: digestFor(i),
        eventId: `evt-shared-${i}`,
      })),
    );
    expect(pushed.body).toMatchObject({ accepted: count, duplicates: 0 });

    await rx.waitForRequests(count, 60_000);
    await waitForIdleQueues(metricsUrls[0]!);
    expect(rx.requests).toHaveLength(count);
    const ids = rx.requests.map((r) => r.headers['webhook-id']);
    expect(new Set(ids).size).toBe(count);
    const tags = rx.requests.map((r) => JSON.parse(r.body).push_data.tag as string);
    expect(new Set(tags)).toEqual(new Set(Array.from({ length: count }, (_, i) => `t-${i}`)));

    const records = await stack.records(NS, repo, trigger.id, count);
    expect(records).toHaveLength(count);
    expect(records.every((r: Json) => r.status === 'succeeded' && r.attempt === 1)).toBe(true);
    expect(new Set(records.map((r: Json) => r.deliveryId))).toEqual(new Set(ids));

    const perWorker = await Promise.all(
      metricsUrls.map(async (url) => {
        const text = await scrapeMetrics(url);
        return {
          delivered: metricSum(text, 'delivery_attempts_total', { outcome: 'succeeded' }),
          evaluated: metricSum(text, 'push_evaluations_total'),
        };
      }),
    );
    console.log(
      `[two workers] ${count} events: deliveries per worker ${perWorker.map((w) => w.delivered).join(' + ')}, ` +
        `evaluations per worker ${perWorker.map((w) => w.evaluated).join(' + ')}`,
    );
    expect(perWorker.reduce((sum, w) => sum + w.delivered, 0)).toBe(count);
    expect(perWorker.reduce((sum, w) => sum + w.evaluated, 0)).toBe(count);
    for (const worker of perWorker) expect(worker.delivered).toBeGreaterThan(0);
    const codes = await Promise.all(stack.workers.map((worker) => worker.stop('SIGTERM', 15_000)));
    expect(codes).toEqual([0, 0]);
  }, 150_000);

  it('a worker killed with SIGKILL mid-delivery: another worker completes it with the same webhook-id', async () => {
    const first = await stack.startWorker(SHORT_LOCK);
    const rx = await receivers.start();
    // The first attempt is answered only after 3 s: the worker is killed before that.
    rx.respondWith((index) => (index === 0 ? { delayMs: 3000 } : { status: 200, body: 'second' }));
    const repo = 'crash';
    const trigger = await stack.createTrigger(NS, repo, { name: 'crash', url: rx.url, type: 'ALL' });
    const pushed = await stack.push({
      namespace: NS,
      repository: repo,
      tag: 'v1',
      digest: digestFor(1),
      eventId: 'evt-crash',
    });
    expect(pushed.body).toMatchObject({ accepted: 1 });

    const [inFlight] = await rx.waitForRequests(1, 30_000);
    await first.kill();
    expect((await first.exited).signal).toBe('SIGKILL');
    const killedAt = Date.now();
    // Nothing was logged for the attempt that died with its worker.
    expect(await triggerRecords(stack, NS, repo, trigger.id)).toEqual([]);

    survivor = await stack.startWorker(SHORT_LOCK);
    const [, retried] = await rx.waitForRequests(2, 30_000);
    expect(retried!.receivedAt).toBeGreaterThanOrEqual(killedAt);
    expect(retried!.headers['webhook-id']).toBe(inFlight!.headers['webhook-id']);
    expect(retried!.body).toBe(inFlight!.body);

    const [record] = await stack.records(NS, repo, trigger.id, 1, 'succeeded');
    expect(record).toMatchObject({
      eventId: 'evt-crash',
      deliveryId: inFlight!.headers['webhook-id'],
      status: 'succeeded',
      statusCode: '200',
      responseBody: 'second',
    });
    // The log ends with that success: nothing failed, nothing after it.
    const all = await triggerRecords(stack, NS, repo, trigger.id);
    expect(all[0]).toEqual(record);
    expect(all.filter((r: Json) => r.status === 'failed')).toEqual([]);
    expect(rx.requests).toHaveLength(2);
  }, 150_000);

  it('SIGTERM during a delivery: the worker finishes it, logs it, and exits 0', async () => {
    const worker = survivor ?? (await stack.startWorker());
    const rx = await receivers.start();
    rx.respondWith(() => ({ delayMs: 1500, body: 'finished' }));
    const repo = 'shutdown';
    const trigger = await stack.createTrigger(NS, repo, { name: 'shutdown', url: rx.url, type: 'ALL' });
    const pushed = await stack.push({
      namespace: NS,
      repository: repo,
      tag: 'v1',
      digest: digestFor(2),
      eventId: 'evt-term',
    });
    expect(pushed.body).toMatchObject({ accepted: 1 });

    await rx.waitForRequests(1, 30_000);
    const signalledAt = Date.now();
    const code = await worker.stop('SIGTERM', 15_000);
    const exitedAfterMs = Date.now() - signalledAt;
    expect(code).toBe(0);
    console.log(`[sigterm] worker exited 0 ${exitedAfterMs} ms after SIGTERM, with its delivery done`);

    // Read once, after the exit: the record was written before the process ended.
    const records = await triggerRecords(stack, NS, repo, trigger.id);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      eventId: 'evt-term',
      status: 'succeeded',
      statusCode: '200',
      attempt: 1,
      responseBody: 'finished',
    });
    expect(rx.requests).toHaveLength(1);
  }, 90_000);
});
