/**
 * The delivery gates of issue #18 through HTTP with real receivers and two worker processes:
 * coalesce (while the older delivery retries, and while it is in flight), ordered (across two
 * workers, and a worker killed mid-delivery) and rateLimit (a short measurement; the 20 s one
 * is `npm run measure:rate -w e2e`, the down-receiver row is the bench's `coalesce`).
 */
import { type Receiver, waitFor } from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Json, type Stack, startStack } from './support/stack.js';
import { digestFor, receiverPool, triggerRecords } from './support/worker-kit.js';

const NS = 'gates';
/** Short locks: a killed worker's job is taken over within seconds. */
const WORKER_ENV = {
  WORKER_LOCK_DURATION_MS: '2000',
  DELIVERY_TIMEOUT_MS: '5000',
  SHUTDOWN_DEADLINE_MS: '5000',
};

describe('delivery gates: coalesce, ordered, rateLimit', () => {
  let stack: Stack;
  const receivers = receiverPool();
  let seq = 0;
  const push = async (repository: string, tag: string) => {
    const eventId = `evt-${repository}-${++seq}`;
    const pushed = await stack.push({ namespace: NS, repository, tag, digest: digestFor(seq), eventId });
    expect(pushed.status).toBe(202);
    return eventId;
  };
  const eventsOf = (rx: Receiver) => rx.requests.map((r) => JSON.parse(r.body).push_data.digest as string);
  const recordsWhere = async (repository: string, triggerId: string, query: string) => {
    const page = await stack.logsCall(
      `/v1/namespaces/${NS}/repositories/${repository}/triggers/${triggerId}/records?limit=200&${query}`,
    );
    expect(page.status).toBe(200);
    return page.body.records as Json[];
  };

  beforeAll(async () => {
    stack = await startStack({ workers: 2, workerEnv: WORKER_ENV });
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    await receivers.closeAll();
  });

  it('rejects bad option values with a 400 naming the field and the rule', async () => {
    for (const [field, value, message] of [
      ['coalesce', 'yes', 'coalesce must be true or false'],
      ['ordered', 1, 'ordered must be true or false'],
      ['rateLimit', { perSecond: 0.01 }, 'rateLimit.perSecond must be at least 0.1'],
      ['rateLimit', { perSecond: 5, maxInFlight: 0 }, 'rateLimit.maxInFlight must be at least 1'],
      ['rateLimit', { perSecond: 5, burst: 3 }, 'rateLimit must be an object { perSecond, maxInFlight? }'],
    ] as const) {
      const answer = await stack.call('POST', `/v1/namespaces/${NS}/repositories/bad/triggers`, {
        name: 'bad',
        url: 'http://127.0.0.1:1025/x',
        type: 'ALL',
        [field]: value,
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(400);
      expect(JSON.stringify(answer.body)).toContain(message);
    }
  });

  describe('coalesce', () => {
    it('an older delivery waiting for its retry is superseded by a newer push of the tag, which alone is delivered', async () => {
      const rx = await receivers.start();
      rx.respondWith((index) => (index === 0 ? { status: 503 } : { status: 200 }));
      const repo = 'coalesce-retry';
      const trigger = await stack.createTrigger(NS, repo, {
        name: 'latest',
        url: rx.url,
        type: 'ALL',
        coalesce: true,
      });
      expect(trigger).toMatchObject({ coalesce: true });
      const older = await push(repo, 'latest');
      await stack.records(NS, repo, trigger.id, 1, 'retrying');
      const newer = await push(repo, 'latest');

      const [superseded] = await stack.records(NS, repo, trigger.id, 1, 'superseded');
      expect(superseded).toMatchObject({
        eventId: older,
        status: 'superseded',
        statusCode: 'SUPERSEDED',
        reason: 'superseded',
        supersededBy: newer,
      });
      const [succeeded] = await stack.records(NS, repo, trigger.id, 1, 'succeeded');
      expect(succeeded).toMatchObject({ eventId: newer });
      expect(eventsOf(rx)).toEqual([digestFor(seq - 1), digestFor(seq)]);
      expect(await recordsWhere(repo, trigger.id, 'reason=superseded')).toEqual([superseded]);
      expect(await recordsWhere(repo, trigger.id, 'status=superseded')).toEqual([superseded]);
    });

    it('a delivery in flight finishes; of two newer pushes meanwhile only the newest follows, after it', async () => {
      const rx = await receivers.start();
      rx.respondWith((index) => (index === 0 ? { delayMs: 1500 } : { status: 200 }));
      const repo = 'coalesce-flight';
      const trigger = await stack.createTrigger(NS, repo, {
        name: 'latest',
        url: rx.url,
        type: 'ALL',
        coalesce: true,
      });
      const first = await push(repo, 'latest');
      const [inFlight] = await rx.waitForRequests(1);
      const middle = await push(repo, 'latest');
      const last = await push(repo, 'latest');

      const [, following] = await rx.waitForRequests(2, 20_000);
      expect(following!.receivedAt).toBeGreaterThanOrEqual(inFlight!.receivedAt + 1500);
      expect(JSON.parse(following!.body).push_data.digest).toBe(digestFor(seq));
      const [superseded] = await stack.records(NS, repo, trigger.id, 1, 'superseded');
      expect(superseded).toMatchObject({ eventId: middle, supersededBy: last });
      const succeeded = await stack.records(NS, repo, trigger.id, 2, 'succeeded');
      expect(succeeded.map((r) => r.eventId).sort()).toEqual([first, last].sort());
      // Nothing else comes: the middle push is never sent.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(rx.requests).toHaveLength(2);
    });

    it('other tags are not coalesced with each other', async () => {
      const rx = await receivers.start();
      const repo = 'coalesce-tags';
      await stack.createTrigger(NS, repo, { name: 'latest', url: rx.url, type: 'ALL', coalesce: true });
      for (const tag of ['a', 'b', 'c']) await push(repo, tag);
      await rx.waitForRequests(3);
    });
  });

  describe('ordered', () => {
    it('two workers: deliveries leave in push order, a retried one holding back the next', async () => {
      const rx = await receivers.start();
      // The third delivery's first attempt fails: the ones after it wait for its retry.
      let third = 0;
      rx.respondWith((_index, request) => {
        const digest = JSON.parse(request.body).push_data.digest;
        if (digest === digestOf(2) && third++ < 1) return { status: 503 };
        return { status: 200, delayMs: 20 };
      });
      const repo = 'ordered';
      const base = seq;
      const digestOf = (i: number) => digestFor(base + i + 1);
      const trigger = await stack.createTrigger(NS, repo, {
        name: 'in order',
        url: rx.url,
        type: 'ALL',
        ordered: true,
      });
      const count = 12;
      for (let i = 0; i < count; i++) await push(repo, `t-${i}`);
      await rx.waitForRequests(count + 1, 60_000);
      const expected = Array.from({ length: count }, (_, i) => digestOf(i));
      // The failed attempt and its retry come one after the other; nothing overtakes.
      expect(eventsOf(rx)).toEqual([...expected.slice(0, 3), digestOf(2), ...expected.slice(3)]);
      const held = await recordsWhere(repo, trigger.id, 'reason=ordered');
      expect(held.length).toBeGreaterThan(0);
      expect(held.every((r) => r.status === 'succeeded' || r.status === 'retrying')).toBe(true);
    }, 90_000);

    it('a worker killed mid-delivery: its delivery is sent again first, then the rest in order, none lost', async () => {
      const rx = await receivers.start();
      let inFlightSeen = false;
      rx.respondWith((index) => (index === 1 && !inFlightSeen ? { delayMs: 4000 } : { status: 200 }));
      const repo = 'ordered-crash';
      const base = seq;
      const trigger = await stack.createTrigger(NS, repo, {
        name: 'in order',
        url: rx.url,
        type: 'ALL',
        ordered: true,
      });
      const count = 5;
      for (let i = 0; i < count; i++) await push(repo, `t-${i}`);
      await rx.waitForRequests(2, 20_000);
      inFlightSeen = true;
      // Every worker goes: the one sending the second delivery among them.
      await Promise.all(stack.workers.splice(0).map((worker) => worker.kill()));
      const killedAt = Date.now();
      // Both again, started side by side (a start is seconds of CPU; one after the other doubles it).
      await Promise.all([stack.startWorker(), stack.startWorker()]);
      await rx.waitForRequests(count + 1, 40_000);
      const expected = Array.from({ length: count }, (_, i) => digestFor(base + i + 1));
      expect(eventsOf(rx)).toEqual([expected[0], expected[1], ...expected.slice(1)]);
      expect(rx.requests[2]!.receivedAt).toBeGreaterThanOrEqual(killedAt);
      expect(rx.requests[2]!.headers['webhook-id']).toBe(rx.requests[1]!.headers['webhook-id']);
      const records = await stack.records(NS, repo, trigger.id, count, 'succeeded');
      expect(records).toHaveLength(count);
    }, 90_000);
  });

  describe('rateLimit', () => {
    it('a 10/s trigger receives 10/s (±25 % in this short run) while an unlimited one beside it keeps full speed', async () => {
      const [limited, free] = [await receivers.start(), await receivers.start()];
      const repo = 'rated';
      const limitedTrigger = await stack.createTrigger(NS, repo, {
        name: 'limited',
        url: limited.url,
        type: 'ALL',
        rateLimit: { perSecond: 10 },
      });
      expect(limitedTrigger).toMatchObject({ rateLimit: { perSecond: 10 } });
      await stack.createTrigger(NS, repo, { name: 'free', url: free.url, type: 'ALL' });
      const count = 21;
      const pushed = await stack.push(
        Array.from({ length: count }, (_, i) => ({
          namespace: NS,
          repository: repo,
          tag: `r-${i}`,
          digest: digestFor(1000 + i),
          eventId: `evt-rated-${i}`,
        })),
      );
      expect(pushed.status).toBe(202);
      const freeDone = await free.waitForRequests(count, 20_000);
      const got = await limited.waitForRequests(count, 20_000);
      const spanMs = got.at(-1)!.receivedAt - got[0]!.receivedAt;
      const rate = ((count - 1) * 1000) / spanMs;
      expect(rate).toBeGreaterThan(7.5);
      expect(rate).toBeLessThan(12.5);
      // The unlimited trigger was done long before the limited one (which needs 2 s).
      expect(freeDone.at(-1)!.receivedAt).toBeLessThan(got.at(-1)!.receivedAt - 500);
      const held = await recordsWhere(repo, limitedTrigger.id, 'reason=rate-limited');
      expect(held.length).toBeGreaterThan(count / 2);
      expect(held.every((r) => r.status === 'succeeded' && r.attempt === 1)).toBe(true);
    }, 60_000);

    it('maxInFlight bounds the attempts at once across both workers', async () => {
      const rx = await receivers.start();
      let open = 0;
      let most = 0;
      rx.respondWith(async () => {
        open++;
        most = Math.max(most, open);
        await new Promise((resolve) => setTimeout(resolve, 200));
        open--;
        return { status: 200 };
      });
      const repo = 'in-flight';
      const trigger = await stack.createTrigger(NS, repo, {
        name: 'two at once',
        url: rx.url,
        type: 'ALL',
        rateLimit: { perSecond: 1000, maxInFlight: 2 },
      });
      for (let i = 0; i < 8; i++) await push(repo, `f-${i}`);
      await rx.waitForRequests(8, 30_000);
      expect(most).toBe(2);
      await waitFor(
        async () => (await triggerRecords(stack, NS, repo, trigger.id)).length >= 8 || undefined,
        {
          timeoutMs: 10_000,
        },
      );
    }, 60_000);
  });
});
