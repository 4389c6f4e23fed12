// Redis goes away under a running api: ingestion answers 503 + Retry-After at once instead of
// hanging, readiness drops, liveness stays, and when Redis is back the api recovers by itself
// with every event it acknowledged (202) still in the queue.
import { type PushEventJob, queueNames } from '@registry-triggers/store';
import { redisCommand, uniqueName, useRedis, waitFor } from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiHarness,
  type ApiResponse,
  digestOf,
  expectProblemShape,
  startApi,
} from './support/api-harness.js';

/** The contract: "quickly (well under a second), never a hang". */
const OUTAGE_ANSWER_MS = 1000;
const COMMAND_TIMEOUT_MS = 500; // the api's default REDIS_COMMAND_TIMEOUT_MS

// persistent: acknowledged writes are fsynced, so a SIGKILL loses none of them.
const redisServer = useRedis({ outage: true, persistent: true });
let api: ApiHarness;

beforeAll(async () => {
  api = await startApi(redisServer(), { commandTimeoutMs: COMMAND_TIMEOUT_MS });
});
afterAll(async () => {
  await api?.close();
});

const event = (ns: string, i: number) => ({
  namespace: ns,
  repository: 'app',
  tag: `v${i}`,
  digest: digestOf(i),
  eventId: `${ns}-${i}`,
});

/** A request that must not hang: the fetch itself is bounded well past the contract's limit. */
function bounded(method: string, path: string, options: Parameters<ApiHarness['request']>[2] = {}) {
  return Promise.race([
    api.request(method, path, options),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${method} ${path} hung for 5 s`)), 5000).unref(),
    ),
  ]);
}

function expectUnavailable(response: ApiResponse, what: string) {
  const problem = expectProblemShape(response, 503);
  expect(problem.code, what).toBe('storage-unavailable');
  expect(Number(response.headers.get('retry-after')), what).toBeGreaterThan(0);
  expect(response.elapsedMs, what).toBeLessThan(OUTAGE_ANSWER_MS);
}

async function queuedEventIds(): Promise<Set<string>> {
  const queue = api.inspectQueue<PushEventJob>(queueNames.pushEvents);
  const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active'], 0, -1, true);
  await queue.close();
  return new Set(jobs.map((job) => job.data.eventId));
}

/** Everything that needs Redis answers 503 quickly; what does not, still answers. */
async function expectOutageAnswers(ns: string, nsToken: string) {
  const ingestion = [
    () => bounded('POST', '/v1/events/push', { token: api.ingestToken, body: event(ns, 900) }),
    () =>
      bounded('POST', '/v1/events/push', {
        token: api.ingestToken,
        body: [event(ns, 901), event(ns, 902)],
      }),
    () =>
      bounded('POST', '/v1/events/distribution', {
        token: api.ingestToken,
        contentType: 'application/vnd.docker.distribution.events.v1+json',
        body: {
          events: [
            {
              id: `${ns}-903`,
              action: 'push',
              target: { repository: `${ns}/app`, tag: 'v1', digest: digestOf(1) },
            },
          ],
        },
      }),
  ];
  // Twice over: the first request after the drop, and the ones while reconnecting.
  for (let round = 0; round < 2; round++) {
    for (const [i, send] of ingestion.entries())
      expectUnavailable(await send(), `ingestion ${i}, round ${round}`);
  }
  // A namespace token is looked up in Redis: 503, not 401.
  expectUnavailable(
    await bounded('GET', `/v1/namespaces/${ns}/repositories`, { token: nsToken }),
    'namespace-token lookup',
  );
  expectUnavailable(
    await bounded('GET', `/v1/namespaces/${ns}/repositories`, { token: api.adminToken }),
    'read',
  );
  // Without any token it is still 401: authentication of static tokens needs no Redis.
  expect((await bounded('GET', `/v1/namespaces/${ns}/repositories`)).status).toBe(401);

  const ready = await bounded('GET', '/readyz');
  expect(ready.status).toBe(503);
  expect(ready.elapsedMs).toBeLessThan(OUTAGE_ANSWER_MS);
  const health = await bounded('GET', '/healthz');
  expect(health.status).toBe(200);
  expect((await bounded('GET', '/metrics')).status).toBe(200);
}

async function waitForRecovery(ns: string, i: number): Promise<string> {
  // Recovery is the api's own doing (ioredis reconnects); the test only polls.
  const recovered = await waitFor(
    async () => {
      const response = await bounded('POST', '/v1/events/push', {
        token: api.ingestToken,
        body: event(ns, i),
      });
      return response.status === 202 ? response : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 100, message: 'ingestion to answer 202 again' },
  );
  expect(recovered.body.eventIds).toEqual([`${ns}-${i}`]);
  await waitFor(async () => (await bounded('GET', '/readyz')).status === 200, {
    timeoutMs: 5000,
    message: '/readyz to answer 200 again',
  });
  return `${ns}-${i}`;
}

describe('Redis outage', () => {
  it('SIGKILL and a graceful stop: 503 + Retry-After quickly, then recovery with nothing acknowledged lost', async () => {
    const ns = uniqueName();
    const nsToken = await api.issueToken(ns);
    const acknowledged: string[] = [];
    // As a registry would: resend the same events (same ids) until they are acknowledged. With
    // the api's real 500 ms command timeout a loaded machine may answer 503 now and then.
    const accept = async (body: unknown) => {
      const response = await waitFor(
        async () => {
          const answer = await bounded('POST', '/v1/events/push', { token: api.ingestToken, body });
          return answer.status === 202 ? answer : undefined;
        },
        { timeoutMs: 10_000, message: 'events to be acknowledged before the outage' },
      );
      acknowledged.push(...(response.body.eventIds as string[]));
    };
    await accept(event(ns, 1));
    await accept(Array.from({ length: 50 }, (_, i) => event(ns, 10 + i)));

    const server = redisServer();
    await server.kill!();
    await expectOutageAnswers(ns, nsToken);
    await server.start!();
    acknowledged.push(await waitForRecovery(ns, 100));

    await accept(Array.from({ length: 20 }, (_, i) => event(ns, 200 + i)));
    await server.stop();
    await expectOutageAnswers(ns, nsToken);
    await server.start!();
    acknowledged.push(await waitForRecovery(ns, 300));

    const queued = await queuedEventIds();
    expect(acknowledged).toHaveLength(1 + 50 + 1 + 20 + 1);
    expect(acknowledged.filter((id) => !queued.has(id))).toEqual([]);
    // The namespace token survived too (it lives in Redis).
    expect((await bounded('GET', `/v1/namespaces/${ns}/repositories`, { token: nsToken })).status).toBe(200);
  });

  it('a Redis that stops answering (CLIENT PAUSE) is 503 within the command timeout, not a hang', async () => {
    const ns = uniqueName();
    const server = redisServer();
    // A paused server takes connections but runs no command, UNPAUSE included: it ends by itself.
    await redisCommand(server.host, server.port, ['CLIENT', 'PAUSE', '4000', 'ALL']);
    const response = await bounded('POST', '/v1/events/push', { token: api.ingestToken, body: event(ns, 1) });
    expectUnavailable(response, 'paused push');
    expect(response.elapsedMs).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 50);
    // An envelope refused with 503 is sent again whole by the registry: its ignored events
    // are counted when it is taken, not before.
    const ignored = async () =>
      Number(
        /^push_events_total\{[^}]*outcome="ignored"[^}]*\} (\d+)$/m.exec(
          (await bounded('GET', '/metrics')).text,
        )?.[1] ?? 0,
      );
    const ignoredBefore = await ignored();
    const target = {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: digestOf(2),
      tag: 'v2',
    };
    const envelope = {
      events: [
        { id: `${ns}-env-push`, action: 'push', target: { ...target, repository: `${uniqueName()}/app` } },
        { id: `${ns}-env-pull`, action: 'pull', target: { ...target, repository: `${uniqueName()}/app` } },
      ],
    };
    const refused = await bounded('POST', '/v1/events/distribution', {
      token: api.ingestToken,
      body: envelope,
      contentType: 'application/vnd.docker.distribution.events.v1+json',
    });
    expectUnavailable(refused, 'paused envelope');
    expect(await ignored()).toBe(ignoredBefore);
    const ready = await bounded('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.elapsedMs).toBeLessThan(OUTAGE_ANSWER_MS);
    expect((await bounded('GET', '/healthz')).status).toBe(200);
    await waitForRecovery(ns, 2);
  });
});
