/**
 * Traces through the real api and worker code (in this process, so an in-memory exporter
 * sees every span) on a real Redis, delivering to a real receiver: one ingest span per push
 * request, an evaluation span and one span per delivery attempt as its children (the
 * traceparent rides in the jobs), and each attempt's request carrying the traceparent of
 * its own span. No token, secret or custom header value is in any span.
 */
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { startTracing, type Tracing } from '@registry-triggers/http-kit';
import { createRedis, type RedisConnection } from '@registry-triggers/store';
import {
  type Receiver,
  type RedisHandle,
  startReceiver,
  startRedis,
  waitFor,
} from '@registry-triggers/testing';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApi } from '../apps/api/test/support/api-harness.js';
import { workerEnvSchema } from '../apps/worker/src/env.js';
import { createWorkerRuntime } from '../apps/worker/src/runtime.js';

const NS = 'traced';
const TRIGGER_SECRET = 'whsec-trigger-secret-0123456789';
const HEADER_VALUE = 'custom-header-value-0123456789';
const URL_TOKEN = 'url-query-token-0123456789';

describe('traces', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let redisServer: RedisHandle;
  let api: ApiHarness;
  let receiver: Receiver;
  let redis: RedisConnection;
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    tracing = await startTracing('test', {}, exporter);
    [redisServer, receiver] = await Promise.all([startRedis(), startReceiver()]);
    api = await startApi(redisServer, { tracer: tracing.tracer });
    redis = createRedis({ REDIS_URL: redisServer.url }, { role: 'worker', name: 'trace-worker' });
    // The worker as main.ts wires it (createWorkerRuntime), with its tracing module's wrappers and headers.
    const runtime = createWorkerRuntime({
      env: workerEnvSchema.parse({
        REDIS_URL: redisServer.url,
        DELIVERY_ALLOW_PRIVATE_NETWORKS: 'true',
        DELIVERY_CONNECT_TIMEOUT_MS: '2000',
        DELIVERY_TIMEOUT_MS: '5000',
        EVALUATION_CONCURRENCY: '2',
        WORKER_CONCURRENCY: '4',
      }),
      redis,
      registry: new Registry(),
      tracer: tracing.tracer,
    });
    runtime.start();
    closers.push(() => runtime.close());
  }, 60_000);

  afterAll(async () => {
    for (const close of closers) await close();
    await redis?.quit();
    await api?.close();
    await receiver?.close();
    await redisServer?.stop();
    await tracing?.shutdown();
    trace.disable();
  });

  it('a push is one ingest span; its evaluation and each delivery attempt are children, and the receiver gets the attempt span as traceparent', async () => {
    receiver.respondWith((index) =>
      index === 0 ? { status: 503, headers: { 'retry-after': '0' }, body: 'busy' } : { status: 200 },
    );
    const created = await api.request('POST', `/v1/namespaces/${NS}/repositories/app/triggers`, {
      token: api.adminToken,
      body: {
        name: 'all',
        url: `${receiver.url}?token=${URL_TOKEN}`,
        type: 'ALL',
        secret: TRIGGER_SECRET,
        headers: { 'X-Api-Key': HEADER_VALUE },
      },
    });
    expect(created.status).toBe(201);
    const pushed = await api.request('POST', '/v1/events/push', {
      token: api.ingestToken,
      body: { namespace: NS, repository: 'app', tag: 'v1', digest: `sha256:${'a'.repeat(64)}` },
    });
    expect(pushed.status).toBe(202);
    const requests = await receiver.waitForRequests(2, 20_000);

    const spans = await waitFor(
      () => {
        const finished = exporter.getFinishedSpans();
        return finished.filter((span) => span.name === 'deliver').length >= 2 ? finished : undefined;
      },
      { timeoutMs: 10_000, message: 'two delivery spans ended' },
    );
    const ingest = spans.filter((span) => span.name === 'ingest push');
    expect(ingest).toHaveLength(1);
    const root = ingest[0]!;
    const { traceId, spanId: ingestSpanId } = root.spanContext();
    expect(root.attributes).toMatchObject({
      'http.response.status_code': 202,
      'registry_triggers.events.accepted': 1,
    });

    const childrenOfIngest = (name: string) =>
      spans.filter(
        (span) =>
          span.name === name &&
          span.spanContext().traceId === traceId &&
          span.parentSpanContext?.spanId === ingestSpanId,
      );
    expect(childrenOfIngest('evaluate push')).toHaveLength(1);
    const attempts = childrenOfIngest('deliver').sort(
      (a, b) =>
        Number(a.attributes['registry_triggers.attempt']) - Number(b.attributes['registry_triggers.attempt']),
    );
    expect(
      attempts.map((span) => [
        span.attributes['registry_triggers.attempt'],
        span.attributes['registry_triggers.outcome'],
      ]),
    ).toEqual([
      [1, 'retrying'],
      [2, 'succeeded'],
    ]);
    // Each request names the span of its own attempt.
    expect(requests.map((request) => request.headers.traceparent)).toEqual(
      attempts.map((span) => `00-${traceId}-${span.spanContext().spanId}-01`),
    );
    assertNoSecret(spans, [api.adminToken, api.ingestToken, TRIGGER_SECRET, HEADER_VALUE, URL_TOKEN]);
  });

  it('a push that sent a traceparent continues its trace; a refused one ends its span with the error code', async () => {
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const pushed = await api.request('POST', '/v1/events/push', {
      token: api.ingestToken,
      headers: { traceparent: `00-${callerTrace}-00f067aa0ba902b7-01` },
      body: { namespace: NS, repository: 'app', tag: 'v2', digest: `sha256:${'b'.repeat(64)}` },
    });
    expect(pushed.status).toBe(202);
    const refused = await api.request('POST', '/v1/events/push', {
      token: api.ingestToken,
      body: { namespace: NS, repository: 'app', tag: '-bad', digest: `sha256:${'b'.repeat(64)}` },
    });
    expect(refused.status).toBe(400);
    const ingest = await waitFor(
      () => {
        const spans = exporter.getFinishedSpans().filter((span) => span.name === 'ingest push');
        return spans.length >= 3 ? spans : undefined;
      },
      { timeoutMs: 5000, message: 'three ingest spans' },
    );
    const continued = ingest.find((span) => span.spanContext().traceId === callerTrace);
    expect(continued?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    const failed = ingest.at(-1)!;
    expect(failed.attributes['http.response.status_code']).toBe(400);
    expect(failed.status).toEqual({ code: 2, message: 'validation-failed' });
  });
});

/** Every span's name, attributes, events, links, status and resource, searched for each secret. */
function assertNoSecret(spans: ReadableSpan[], secrets: string[]): void {
  const text = JSON.stringify(
    spans.map((span) => ({
      name: span.name,
      attributes: span.attributes,
      events: span.events,
      links: span.links,
      status: span.status,
      resource: span.resource.attributes,
    })),
  );
  for (const secret of secrets) expect(text).not.toContain(secret);
}
