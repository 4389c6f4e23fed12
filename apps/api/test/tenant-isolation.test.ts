// A namespace token sees nothing outside its namespace: every route of another namespace
// answers 404, the same 404 whether the objects exist or not, and changes nothing.
import { RecordStore } from '@registry-triggers/store';
import { uniqueName, useRedis } from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiHarness,
  type ApiResponse,
  digestOf,
  expectProblemShape,
  startApi,
} from './support/api-harness.js';

const redisServer = useRedis();
let api: ApiHarness;

interface Tenant {
  ns: string;
  token: string;
  triggerId: string;
  recordId: string;
}

/** A namespace with a nested repository, a trigger with a secret and one access-log record. */
async function tenant(): Promise<Tenant> {
  const ns = uniqueName();
  const token = await api.issueToken(ns);
  const repo = `/v1/namespaces/${ns}/repositories/team%2Fapp`;
  expect((await api.request('PUT', repo, { token, body: { repoType: 'PUBLIC' } })).status).toBe(201);
  const trigger = await api.request('POST', `${repo}/triggers`, {
    token,
    body: { name: 'mine', url: 'https://hooks.example.com/x', type: 'ALL', secret: 'tenant-secret-1' },
  });
  expect(trigger.status).toBe(201);
  const recordId = await new RecordStore(api.redis).append({
    triggerId: trigger.body.id,
    triggerName: 'mine',
    triggerUrl: 'https://hooks.example.com/x',
    triggerType: 'ALL',
    triggerTag: '',
    eventId: 'event-1',
    deliveryId: 'msg_1',
    namespace: ns,
    repository: 'team/app',
    tag: 'v1',
    digest: digestOf(1),
    status: 'succeeded',
    statusCode: '200',
    attempt: 1,
    requestTime: Date.now(),
    durationMs: 1,
    requestHeaders: {},
    requestBody: '{}',
    responseHeaders: {},
    responseBody: '',
  });
  return { ns, token, triggerId: trigger.body.id, recordId };
}

/** Every route under /v1/namespaces/{ns}, as a valid request for the objects of `t`. */
function namespaceRoutes(t: Pick<Tenant, 'ns' | 'triggerId' | 'recordId'>) {
  const repo = `/v1/namespaces/${t.ns}/repositories/team%2Fapp`;
  const trigger = `${repo}/triggers/${t.triggerId}`;
  const triggerBody = { name: 'stolen', url: 'https://attacker.example.com/x', type: 'ALL', secret: '***' };
  return [
    { method: 'PUT', path: repo, body: { repoType: 'PRIVATE' }, ok: 200 },
    {
      method: 'PUT',
      path: `/v1/namespaces/${t.ns}/repositories/fresh`,
      body: { repoType: 'PUBLIC' },
      ok: 201,
    },
    { method: 'GET', path: repo, ok: 200 },
    { method: 'GET', path: `/v1/namespaces/${t.ns}/repositories`, ok: 200 },
    { method: 'GET', path: `/v1/namespaces/${t.ns}/repositories?limit=1`, ok: 200 },
    {
      method: 'POST',
      path: `${repo}/triggers`,
      body: { ...triggerBody, secret: 'attacker-secret' },
      ok: 201,
    },
    { method: 'GET', path: `${repo}/triggers`, ok: 200 },
    { method: 'GET', path: trigger, ok: 200 },
    { method: 'PUT', path: trigger, body: triggerBody, ok: 200 },
    { method: 'POST', path: `${trigger}/test`, ok: 202 },
    { method: 'POST', path: `${trigger}/records/${t.recordId}/redeliver`, ok: 202 },
    { method: 'DELETE', path: trigger, ok: 204 },
  ] as Array<{ method: string; path: string; body?: unknown; ok: number }>;
}

beforeAll(async () => {
  api = await startApi(redisServer(), { testDeliveryWaitMs: 200 });
});
afterAll(async () => {
  await api?.close();
});

describe('tenant isolation', () => {
  it('every route of another namespace answers 404 to a namespace token, and changes nothing', async () => {
    const mine = await tenant();
    const theirs = await tenant();
    const snapshot = async () => ({
      repo: (
        await api.request('GET', `/v1/namespaces/${theirs.ns}/repositories/team%2Fapp`, {
          token: theirs.token,
        })
      ).body,
      list: (await api.request('GET', `/v1/namespaces/${theirs.ns}/repositories`, { token: theirs.token }))
        .body,
      triggers: (
        await api.request('GET', `/v1/namespaces/${theirs.ns}/repositories/team%2Fapp/triggers`, {
          token: theirs.token,
        })
      ).body,
    });
    const before = await snapshot();

    const routes = namespaceRoutes(theirs);
    // The same requests for a namespace that does not exist at all must look the same.
    const ghost = { ns: uniqueName(), triggerId: theirs.triggerId, recordId: theirs.recordId };
    const ghostRoutes = namespaceRoutes(ghost);
    const anonymise = (response: ApiResponse, ns: string) => response.text.replaceAll(ns, '<ns>');
    for (const [i, route] of routes.entries()) {
      const response = await api.request(route.method, route.path, { token: mine.token, body: route.body });
      const problem = expectProblemShape(response, 404);
      expect(problem.code, `${route.method} ${route.path}`).toBe('not-found');
      expect(response.text).not.toContain('tenant-secret-1');
      const ghostRoute = ghostRoutes[i]!;
      const ghostResponse = await api.request(ghostRoute.method, ghostRoute.path, {
        token: mine.token,
        body: ghostRoute.body,
      });
      expect(ghostResponse.status).toBe(404);
      expect(anonymise(ghostResponse, ghost.ns)).toBe(anonymise(response, theirs.ns));
    }
    expect(await snapshot()).toEqual(before);

    // Positive control: each of those requests is valid for the namespace's own token.
    for (const route of routes) {
      const response = await api.request(route.method, route.path, { token: theirs.token, body: route.body });
      expect(response.status, `${route.method} ${route.path}: ${response.text}`).toBe(route.ok);
    }
  });

  it('a namespace token is 404 on another namespace even with a body the route would reject', async () => {
    const mine = await tenant();
    const theirs = await tenant();
    const repo = `/v1/namespaces/${theirs.ns}/repositories/team%2Fapp`;
    for (const [method, path] of [
      ['PUT', repo],
      ['POST', `${repo}/triggers`],
      ['PUT', `${repo}/triggers/${theirs.triggerId}`],
    ] as const) {
      const response = await api.request(method, path, { token: mine.token, body: { bogus: true } });
      expect(expectProblemShape(response, 404).code).toBe('not-found');
    }
  });

  it('the admin token reaches every namespace', async () => {
    const theirs = await tenant();
    for (const route of namespaceRoutes(theirs)) {
      const response = await api.request(route.method, route.path, {
        token: api.adminToken,
        body: route.body,
      });
      expect(response.status, `${route.method} ${route.path}: ${response.text}`).toBe(route.ok);
    }
  });

  it('a namespace token posts push events for its own namespace only (403 otherwise, nothing queued)', async () => {
    const mine = await tenant();
    const theirs = await tenant();
    const event = (ns: string, i: number) => ({
      namespace: ns,
      repository: 'team/app',
      tag: 'v1',
      digest: digestOf(i),
      eventId: `${ns}-${i}`,
    });
    const own = await api.request('POST', '/v1/events/push', { token: mine.token, body: event(mine.ns, 1) });
    expect(own.status).toBe(202);
    expect(own.body).toEqual({ accepted: 1, duplicates: 0, eventIds: [`${mine.ns}-1`] });

    const queue = api.inspectQueue('push-events');
    const countBefore = await queue.count();
    for (const body of [event(theirs.ns, 2), [event(mine.ns, 3), event(theirs.ns, 4)]]) {
      const problem = expectProblemShape(
        await api.request('POST', '/v1/events/push', { token: mine.token, body }),
        403,
      );
      expect(problem.detail).toContain(theirs.ns);
    }
    const envelope = {
      events: [
        {
          id: 'x1',
          action: 'push',
          target: { repository: `${theirs.ns}/app`, tag: 'v1', digest: digestOf(5) },
        },
      ],
    };
    expectProblemShape(
      await api.request('POST', '/v1/events/distribution', { token: mine.token, body: envelope }),
      403,
    );
    expect(await queue.count()).toBe(countBefore);
  });
});
