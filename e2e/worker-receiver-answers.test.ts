/**
 * How the worker treats what a receiver answers, seen from the receiver, the access log
 * and the trigger: retries keep their webhook-id and honour Retry-After, 410 disables the
 * trigger, redirects are not followed, a hang is a timeout, a self-signed certificate is
 * refused, and a huge answer is cut to 4 KiB in the record.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { selfSignedCertificate } from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Json, Stack } from './support/stack.js';
import {
  digestFor,
  getTrigger,
  type LoopbackServer,
  metricSum,
  receiverPool,
  scrapeMetrics,
  startLoopbackServer,
  startObservedStack,
  triggerRecords,
  waitForIdleQueues,
} from './support/worker-kit.js';

const NS = 'answers';
const DELIVERY_TIMEOUT_MS = 1000;

describe('worker: what receivers answer', () => {
  let stack: Stack;
  let metricsUrl: string;
  const receivers = receiverPool();
  let seq = 0;
  /** Pushes one event for `repository` and returns its event id. */
  const pushOne = async (repository: string, tag = 'latest') => {
    seq++;
    const eventId = `evt-answers-${repository}-${seq}`;
    const pushed = await stack.push({ namespace: NS, repository, tag, digest: digestFor(seq), eventId });
    expect(pushed.status).toBe(202);
    expect(pushed.body).toMatchObject({ accepted: 1 });
    return eventId;
  };

  beforeAll(async () => {
    ({ stack, metricsUrl } = await startObservedStack(DELIVERY_TIMEOUT_MS));
  }, 90_000);

  afterAll(async () => {
    await receivers.closeAll();
    await stack?.stop();
  });

  it('500 then 200: retries with the same webhook-id and body, signed each time, logged retrying then succeeded', async () => {
    const rx = await receivers.start();
    rx.respondWith((index) => (index === 0 ? { status: 500, body: 'busy' } : { status: 200, body: 'done' }));
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const trigger = await stack.createTrigger(NS, 'flaky', {
      name: 'flaky',
      url: rx.url,
      type: 'ALL',
      secret,
    });
    const eventId = await pushOne('flaky');

    const [first, second] = await rx.waitForRequests(2, 20_000);
    expect(first!.headers['webhook-id']).toMatch(/^msg_/);
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(second!.body).toBe(first!.body);
    for (const request of [first!, second!]) {
      const {
        'webhook-id': id,
        'webhook-timestamp': timestamp,
        'webhook-signature': signature,
      } = request.headers;
      const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
      const expected = createHmac('sha256', key)
        .update(`${id}.${timestamp}.${request.body}`)
        .digest('base64');
      expect(signature).toBe(`v1,${expected}`);
    }

    const records = await stack.records(NS, 'flaky', trigger.id, 1, 'succeeded');
    const all = await triggerRecords(stack, NS, 'flaky', trigger.id);
    // Newest first.
    expect(all.map((r: Json) => [r.status, r.statusCode, r.attempt])).toEqual([
      ['succeeded', '200', 2],
      ['retrying', '500', 1],
    ]);
    expect(records[0]).toMatchObject({
      eventId,
      deliveryId: first!.headers['webhook-id'],
      responseBody: 'done',
    });
    expect(all[1]).toMatchObject({ eventId, deliveryId: first!.headers['webhook-id'], responseBody: 'busy' });
    // The secret and the signature stay out of the log.
    expect(JSON.stringify(all)).not.toContain(secret.slice('whsec_'.length));
    expect(all[0].requestHeaders['webhook-signature']).not.toBe(second!.headers['webhook-signature']);
  });

  it('429 with Retry-After: waits at least that long before the next attempt', async () => {
    const rx = await receivers.start();
    // 2 s is longer than the policy's own first delay (0.5 to 1 s): only honouring the header explains the gap.
    rx.respondWith((index) =>
      index === 0 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 },
    );
    const trigger = await stack.createTrigger(NS, 'limited', { name: 'limited', url: rx.url, type: 'ALL' });
    await pushOne('limited');

    const [first, second] = await rx.waitForRequests(2, 20_000);
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(1950);
    await stack.records(NS, 'limited', trigger.id, 2);
    const all = await triggerRecords(stack, NS, 'limited', trigger.id);
    expect(all.map((r: Json) => [r.status, r.statusCode, r.attempt])).toEqual([
      ['succeeded', '200', 2],
      ['retrying', '429', 1],
    ]);
    expect(all[1].responseHeaders['retry-after']).toBe('2');
  });

  it('410: the attempt is final, the trigger is disabled with a reason, and later pushes are not sent', async () => {
    const gone = await receivers.start();
    gone.respondWith(() => ({ status: 410, body: 'gone' }));
    const sentinel = await receivers.start();
    const trigger = await stack.createTrigger(NS, 'gone', { name: 'gone', url: gone.url, type: 'ALL' });
    await stack.createTrigger(NS, 'gone', { name: 'sentinel', url: sentinel.url, type: 'ALL' });
    await pushOne('gone', 'v1');

    const [record] = await stack.records(NS, 'gone', trigger.id, 1, 'failed');
    expect(record).toMatchObject({ status: 'failed', statusCode: '410', attempt: 1, responseBody: 'gone' });
    const disabled = await getTrigger(stack, NS, 'gone', trigger.id);
    expect(disabled.enabled).toBe(false);
    expect(disabled.disabledReason).toEqual(expect.stringContaining('410'));

    await pushOne('gone', 'v2');
    await sentinel.waitForRequests(2, 20_000);
    await waitForIdleQueues(metricsUrl);
    expect(gone.requests).toHaveLength(1);
    expect(JSON.parse(gone.requests[0]!.body).push_data.tag).toBe('v1');
    // A disabled trigger is not even evaluated: no record for the later push.
    expect(await triggerRecords(stack, NS, 'gone', trigger.id)).toHaveLength(1);
  });

  it('a trigger deleted between two attempts: the delivery ends with a failed record, nothing more is sent', async () => {
    const rx = await receivers.start();
    // Retry-After keeps the next attempt seconds away, well after the DELETE below.
    rx.respondWith(() => ({ status: 503, headers: { 'retry-after': '3' } }));
    const trigger = await stack.createTrigger(NS, 'doomed', { name: 'doomed', url: rx.url, type: 'ALL' });
    await pushOne('doomed');
    await stack.records(NS, 'doomed', trigger.id, 1, 'retrying');
    const failedBefore = metricSum(await scrapeMetrics(metricsUrl), 'delivery_attempts_total', {
      outcome: 'failed',
    });
    const deleted = await stack.call(
      'DELETE',
      `/v1/namespaces/${NS}/repositories/doomed/triggers/${trigger.id}`,
    );
    expect(deleted.status).toBe(204);

    const [last] = await stack.records(NS, 'doomed', trigger.id, 1, 'failed');
    expect(last).toMatchObject({
      triggerId: trigger.id,
      triggerName: 'doomed',
      triggerUrl: rx.url,
      status: 'failed',
      statusCode: 'TRIGGER_DELETED',
      attempt: 2,
      durationMs: 0,
    });
    await waitForIdleQueues(metricsUrl);
    expect(rx.requests).toHaveLength(1);
    const story = await triggerRecords(stack, NS, 'doomed', trigger.id);
    expect(story.map((r: Json) => [r.status, r.statusCode, r.attempt])).toEqual([
      ['failed', 'TRIGGER_DELETED', 2],
      ['retrying', '503', 1],
    ]);
    expect(story[0].deliveryId).toBe(story[1].deliveryId);
    // Counted as the failed delivery the log shows.
    const failedAfter = metricSum(await scrapeMetrics(metricsUrl), 'delivery_attempts_total', {
      outcome: 'failed',
    });
    expect(failedAfter - failedBefore).toBe(1);
  });

  it('301 with Location: the attempt is final and the redirect is not followed', async () => {
    const target = await receivers.start();
    const redirecting = await receivers.start();
    redirecting.respondWith(() => ({ status: 301, headers: { location: target.url } }));
    const trigger = await stack.createTrigger(NS, 'moved', {
      name: 'moved',
      url: redirecting.url,
      type: 'ALL',
    });
    await pushOne('moved');

    const [record] = await stack.records(NS, 'moved', trigger.id, 1);
    await waitForIdleQueues(metricsUrl);
    expect(record).toMatchObject({ status: 'failed', statusCode: '301', attempt: 1 });
    expect(record.responseHeaders.location).toBe(target.url);
    expect(await triggerRecords(stack, NS, 'moved', trigger.id)).toHaveLength(1);
    expect(redirecting.requests).toHaveLength(1);
    expect(target.requests).toHaveLength(0);
    // Unlike 410, a redirect does not disable the trigger.
    expect((await getTrigger(stack, NS, 'moved', trigger.id)).enabled).toBe(true);
  });

  it('a receiver that hangs past DELIVERY_TIMEOUT_MS: ETIMEDOUT, retrying, then delivered', async () => {
    const rx = await receivers.start();
    rx.respondWith((index) => (index === 0 ? { hang: true } : { status: 200 }));
    const trigger = await stack.createTrigger(NS, 'slow', { name: 'slow', url: rx.url, type: 'ALL' });
    await pushOne('slow');

    await stack.records(NS, 'slow', trigger.id, 1, 'succeeded');
    const all = await triggerRecords(stack, NS, 'slow', trigger.id);
    expect(all.map((r: Json) => [r.status, r.statusCode, r.attempt])).toEqual([
      ['succeeded', '200', 2],
      ['retrying', 'ETIMEDOUT', 1],
    ]);
    // Timed out by the worker's own deadline, not by some longer default.
    expect(all[1].durationMs).toBeGreaterThanOrEqual(DELIVERY_TIMEOUT_MS - 50);
    expect(all[1].durationMs).toBeLessThan(DELIVERY_TIMEOUT_MS + 3000);
    expect(rx.requests[1]!.headers['webhook-id']).toBe(rx.requests[0]!.headers['webhook-id']);
  });

  it('a self-signed HTTPS receiver on port 443: refused with a certificate error, final, nothing sent', async (context) => {
    const tls = await selfSignedCertificate();
    let server: LoopbackServer;
    try {
      // https trigger URLs must use port 443, so the receiver takes that very port.
      server = await startLoopbackServer({ host: '127.0.0.1', port: 443, tls });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EACCES') {
        context.skip('binding 127.0.0.1:443 needs root or CAP_NET_BIND_SERVICE');
      }
      throw error;
    }
    try {
      const trigger = await stack.createTrigger(NS, 'tls', {
        name: 'tls',
        url: 'https://localhost/hook',
        type: 'ALL',
      });
      await pushOne('tls');
      const [record] = await stack.records(NS, 'tls', trigger.id, 1);
      expect(record).toMatchObject({ status: 'failed', attempt: 1, triggerUrl: 'https://localhost/hook' });
      expect(record.statusCode).toMatch(/CERT|SELF_SIGNED/);
      await waitForIdleQueues(metricsUrl);
      expect(await triggerRecords(stack, NS, 'tls', trigger.id)).toHaveLength(1);
      // The worker did reach this server, and hung up during the handshake: no request was sent.
      expect(server.connections).toBeGreaterThanOrEqual(1);
      expect(server.requests).toHaveLength(0);
    } finally {
      await server.close();
    }
  });

  it('a 5 MB answer: the delivery succeeds and the record keeps at most 4096 bytes of it', async () => {
    const rx = await receivers.start();
    const huge = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < huge.length; i++) huge[i] = 97 + (i % 26);
    rx.respondWith(() => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: huge }));
    const trigger = await stack.createTrigger(NS, 'huge', { name: 'huge', url: rx.url, type: 'ALL' });
    await pushOne('huge');

    const [record] = await stack.records(NS, 'huge', trigger.id, 1);
    expect(record).toMatchObject({ status: 'succeeded', statusCode: '200', attempt: 1 });
    expect(Buffer.byteLength(record.responseBody)).toBe(4096);
    expect(record.responseBody).toBe(huge.subarray(0, 4096).toString('utf8'));
    await waitForIdleQueues(metricsUrl);
    expect(rx.requests).toHaveLength(1);
    expect(await triggerRecords(stack, NS, 'huge', trigger.id)).toHaveLength(1);
  });
});
