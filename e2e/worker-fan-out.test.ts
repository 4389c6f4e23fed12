/**
 * The worker's fan-out as a user sees it: one push reaches exactly the triggers whose
 * filter matches its tag, every other enabled trigger gets an `untriggered` record, a
 * disabled trigger gets nothing; and a receiver that never answers does not hold up the
 * healthy ones.
 */
import { getFreePorts, waitFor } from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Json, Stack } from './support/stack.js';
import {
  acrBody,
  digestFor,
  receiverPool,
  startObservedStack,
  triggerRecords,
  waitForIdleQueues,
} from './support/worker-kit.js';

const DELIVERY_TIMEOUT_MS = 10_000;

describe('worker: fan-out and isolation', () => {
  let stack: Stack;
  let metricsUrl: string;
  const receivers = receiverPool();

  beforeAll(async () => {
    ({ stack, metricsUrl } = await startObservedStack(DELIVERY_TIMEOUT_MS));
  }, 90_000);

  afterAll(async () => {
    await receivers.closeAll();
    await stack?.stop();
  });

  it('delivers each push to exactly the matching triggers and records the others as untriggered', async () => {
    const ns = 'fanout';
    const repo = 'team/app';
    const put = await stack.call('PUT', `/v1/namespaces/${ns}/repositories/${encodeURIComponent(repo)}`, {
      repoType: 'PRIVATE',
    });
    expect(put.status).toBe(201);
    const createdAtMs = put.body.createdAt as number;

    const [allRx, listRx, regexRx, disabledRx] = [
      await receivers.start(),
      await receivers.start(),
      await receivers.start(),
      await receivers.start(),
    ];
    const all = await stack.createTrigger(ns, repo, { name: 'all', url: allRx!.url, type: 'ALL' });
    const list = await stack.createTrigger(ns, repo, {
      name: 'list',
      url: listRx!.url,
      type: 'TAG_LIST',
      tags: ['v1', 'latest'],
    });
    const regex = await stack.createTrigger(ns, repo, {
      name: 'regex',
      url: regexRx!.url,
      type: 'TAG_REG_EXP',
      expression: 'release-v.*',
    });
    const disabled = await stack.createTrigger(ns, repo, {
      name: 'disabled',
      url: disabledRx!.url,
      type: 'ALL',
      enabled: false,
    });

    const pushedAtMs = Date.UTC(2024, 4, 17, 8, 30, 15);
    const tags = ['release-v1.2', 'latest', 'xrelease-v1'];
    const events = tags.map((tag, i) => ({
      namespace: ns,
      repository: repo,
      tag,
      digest: digestFor(i + 1),
      pushedAt: new Date(pushedAtMs + i * 1000).toISOString(),
      eventId: `evt-fanout-${tag}`,
    }));
    const pushed = await stack.push(events);
    expect(pushed.status).toBe(202);
    expect(pushed.body).toMatchObject({ accepted: 3, duplicates: 0 });

    const bodyOf = (i: number) =>
      acrBody({
        namespace: ns,
        repository: repo,
        tag: tags[i]!,
        digest: digestFor(i + 1),
        pushedAtMs: pushedAtMs + i * 1000,
        createdAtMs,
        repoType: 'PRIVATE',
      });

    // Every delivery and record that can come, then a quiet queue: only then are absences meaningful.
    await allRx!.waitForRequests(3, 20_000);
    await listRx!.waitForRequests(1, 20_000);
    await regexRx!.waitForRequests(1, 20_000);
    await stack.records(ns, repo, list.id, 3);
    await stack.records(ns, repo, regex.id, 3);
    await waitForIdleQueues(metricsUrl);

    // ALL: every tag, each body exact, each with its own webhook-id.
    expect(allRx!.requests.map((r) => r.body).sort()).toEqual([bodyOf(0), bodyOf(1), bodyOf(2)].sort());
    expect(new Set(allRx!.requests.map((r) => r.headers['webhook-id'])).size).toBe(3);
    for (const request of allRx!.requests) {
      expect(request.method).toBe('POST');
      expect(request.url).toBe('/hook');
      expect(request.headers['content-type']).toBe('application/json');
    }
    // TAG_LIST ['v1', 'latest']: only `latest`.
    expect(listRx!.requests.map((r) => r.body)).toEqual([bodyOf(1)]);
    // TAG_REG_EXP 'release-v.*' must match the whole tag: `release-v1.2`, not `xrelease-v1`.
    expect(regexRx!.requests.map((r) => r.body)).toEqual([bodyOf(0)]);
    // Disabled: no request and not a single record.
    expect(disabledRx!.requests).toHaveLength(0);
    expect(await triggerRecords(stack, ns, repo, disabled.id)).toEqual([]);

    const summary = (records: Json[]) =>
      records
        .map((r) => `${r.tag}:${r.status}:${r.statusCode}:${r.attempt}`)
        .sort()
        .join(' ');
    expect(summary(await triggerRecords(stack, ns, repo, all.id))).toBe(
      'latest:succeeded:200:1 release-v1.2:succeeded:200:1 xrelease-v1:succeeded:200:1',
    );
    expect(summary(await triggerRecords(stack, ns, repo, list.id))).toBe(
      'latest:succeeded:200:1 release-v1.2:untriggered:untriggered:0 xrelease-v1:untriggered:untriggered:0',
    );
    expect(summary(await triggerRecords(stack, ns, repo, regex.id))).toBe(
      'latest:untriggered:untriggered:0 release-v1.2:succeeded:200:1 xrelease-v1:untriggered:untriggered:0',
    );

    const untriggered = (await triggerRecords(stack, ns, repo, list.id)).find((r) => r.tag === 'xrelease-v1');
    expect(untriggered).toMatchObject({
      triggerId: list.id,
      triggerName: 'list',
      triggerUrl: listRx!.url,
      triggerType: 'TAG_LIST',
      triggerTag: 'v1,latest',
      eventId: 'evt-fanout-xrelease-v1',
      deliveryId: null,
      namespace: ns,
      repository: repo,
      tag: 'xrelease-v1',
      digest: digestFor(3),
      status: 'untriggered',
      statusCode: 'untriggered',
      attempt: 0,
    });
    const delivered = (await triggerRecords(stack, ns, repo, regex.id)).find((r) => r.status === 'succeeded');
    expect(delivered).toMatchObject({
      triggerTag: 'release-v.*',
      eventId: 'evt-fanout-release-v1.2',
      deliveryId: regexRx!.requests[0]!.headers['webhook-id'],
      requestBody: bodyOf(0),
    });
  });

  it('keeps delivering to healthy receivers while one receiver never answers', async () => {
    const ns = 'isolation';
    const repo = 'busy';
    const pushes = 80;
    const hanging = await receivers.start();
    hanging.respondWith(() => ({ hang: true }));
    const healthy = [await receivers.start(), await receivers.start(), await receivers.start()];
    const hangTrigger = await stack.createTrigger(ns, repo, { name: 'hangs', url: hanging.url, type: 'ALL' });
    for (const [i, rx] of healthy.entries()) {
      await stack.createTrigger(ns, repo, { name: `healthy-${i}`, url: rx.url, type: 'ALL' });
    }

    const startedAt = Date.now();
    const pushed = await stack.push(
      Array.from({ length: pushes }, (_, i) => ({
        namespace: ns,
        repository: repo,
        tag: `build-${i}`,
        digest: digestFor(1000 + i),
        eventId: `evt-isolation-${i}`,
      })),
    );
    expect(pushed.body).toMatchObject({ accepted: pushes });

    // The healthy receivers must be done before the hanging receiver's first attempt can even time out.
    await Promise.all(healthy.map((rx) => rx.waitForRequests(pushes, DELIVERY_TIMEOUT_MS + 20_000)));
    const healthyDoneAt = Math.max(...healthy.flatMap((rx) => rx.requests.map((r) => r.receivedAt)));
    // Nothing to the hanging receiver has finished yet, so every request it got is still open.
    const hangingInFlight = hanging.requests.length;
    const firstTimeout = await waitFor(
      async () => {
        const records = await stack.records(ns, repo, hangTrigger.id, 1);
        const timedOut = records.filter((r: Json) => r.statusCode === 'ETIMEDOUT');
        return timedOut.length > 0 ? Math.min(...timedOut.map((r: Json) => r.requestTime + r.durationMs)) : 0;
      },
      {
        timeoutMs: DELIVERY_TIMEOUT_MS + 20_000,
        intervalMs: 100,
        message: 'the first ETIMEDOUT record of the hanging trigger',
      },
    );
    const latencies = healthy
      .flatMap((rx) => rx.requests.map((r) => r.receivedAt - startedAt))
      .sort((a, b) => a - b);
    console.log(
      `[isolation] ${pushes} pushes x (3 healthy + 1 hanging): ${latencies.length} healthy deliveries done ` +
        `${healthyDoneAt - startedAt} ms after the push (p50 ${latencies[Math.floor(latencies.length / 2)]} ms, ` +
        `p99 ${latencies[Math.floor(latencies.length * 0.99)]} ms); hanging receiver: ${hangingInFlight} requests ` +
        `open at once, first timeout ${firstTimeout - startedAt} ms after the push (DELIVERY_TIMEOUT_MS ${DELIVERY_TIMEOUT_MS})`,
    );

    for (const rx of healthy) {
      expect(rx.requests).toHaveLength(pushes);
      expect(new Set(rx.requests.map((r) => r.headers['webhook-id'])).size).toBe(pushes);
    }
    expect(healthyDoneAt).toBeLessThan(firstTimeout);
    expect(healthyDoneAt - startedAt).toBeLessThan(DELIVERY_TIMEOUT_MS);
    // The hanging receiver was tried, but never with everything at once.
    expect(hangingInFlight).toBeGreaterThan(0);
    expect(hangingInFlight).toBeLessThan(pushes);
  });

  it('keeps delivering to a healthy path of a server while another of its paths fails every attempt', async () => {
    const ns = 'shared-origin';
    const server = await receivers.start();
    server.respondWith((_, request) => ({ status: request.url === '/fail' ? 503 : 200 }));
    const failing = await stack.createTrigger(ns, 'failing', {
      name: 'fails',
      url: `${server.origin}/fail`,
      type: 'ALL',
    });
    await stack.createTrigger(ns, 'healthy', { name: 'answers', url: `${server.origin}/ok`, type: 'ALL' });

    // Failures in a row enough to open a circuit breaker, were one to count them for the whole server.
    const failures = 6;
    await stack.push(
      Array.from({ length: failures }, (_, i) => ({
        namespace: ns,
        repository: 'failing',
        tag: `t${i}`,
        digest: digestFor(2000 + i),
      })),
    );
    await stack.records(ns, 'failing', failing.id, failures, 'retrying');

    const pushedAt = Date.now();
    await stack.push({ namespace: ns, repository: 'healthy', tag: 'v1', digest: digestFor(2100) });
    await waitFor(() => server.requests.some((r) => r.url === '/ok'), {
      timeoutMs: 20_000,
      intervalMs: 20,
      message: 'the delivery to /ok',
    });
    const delivered = server.requests.find((r) => r.url === '/ok')!;
    // A circuit shared by the whole server would have held it for its cooldown (5 s or more).
    expect(delivered.receivedAt - pushedAt).toBeLessThan(3000);
  });

  it('delivers to an endpoint that answered 503 to everything as soon as it answers 200 again', async () => {
    const ns = 'recovering';
    const server = await receivers.start();
    server.respondWith(() => ({ status: 503 }));
    const trigger = await stack.createTrigger(ns, 'app', { name: 'deploys', url: server.url, type: 'ALL' });
    const failures = 6;
    await stack.push(
      Array.from({ length: failures }, (_, i) => ({
        namespace: ns,
        repository: 'app',
        tag: `down-${i}`,
        digest: digestFor(3000 + i),
      })),
    );
    await stack.records(ns, 'app', trigger.id, failures, 'retrying');

    server.respondWith(() => ({ status: 200 }));
    const pushedAt = Date.now();
    await stack.push({ namespace: ns, repository: 'app', tag: 'back', digest: digestFor(3100) });
    const isBack = (r: { body: string }) => JSON.parse(r.body).push_data.tag === 'back';
    await waitFor(() => server.requests.some(isBack), {
      timeoutMs: 20_000,
      intervalMs: 20,
      message: 'the delivery of the push after the recovery',
    });
    // An endpoint that answers is reachable: no circuit rests it for a cooldown.
    expect(server.requests.find(isBack)!.receivedAt - pushedAt).toBeLessThan(3000);
  });

  it('logs the first attempt of every push to a receiver that is down, even once its circuit is open', async () => {
    const ns = 'receiver-down';
    const [closedPort] = await getFreePorts(1);
    const trigger = await stack.createTrigger(ns, 'app', {
      name: 'down',
      url: `http://127.0.0.1:${closedPort}/hook`,
      type: 'ALL',
    });
    const push = (tag: string, seed: number) =>
      stack.push({ namespace: ns, repository: 'app', tag, digest: digestFor(seed) });
    // Refused five times in a row: the circuit of the endpoint opens.
    for (let i = 0; i < 5; i++) await push(`early-${i}`, 4000 + i);
    await stack.records(ns, 'app', trigger.id, 5, 'retrying');

    const pushedAt = Date.now();
    await push('later', 4100);
    const [later] = (await waitFor(
      async () => {
        const records = await triggerRecords(stack, ns, 'app', trigger.id);
        const found = records.filter((r: Json) => r.tag === 'later');
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50, message: 'a record of the later push' },
    )) as Json[];
    expect(later).toMatchObject({ status: 'retrying', statusCode: 'ECONNREFUSED', attempt: 1 });
    // Not held unseen for the circuit's cooldown (5 s or more): the circuit rests retries only.
    expect(later.requestTime - pushedAt).toBeLessThan(3000);
  });
});
