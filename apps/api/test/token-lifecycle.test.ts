// The token lifecycle over real HTTP against a real Redis: scopes (every route tried with
// every kind of token), listing without secrets, revocation and expiry (401 at once),
// rotation with a grace period, and tokens stored before scopes existed.
import { type RouteCaller, routeKey } from '@registry-triggers/http-kit';
import { hashToken, keys } from '@registry-triggers/store';
import { uniqueName, useRedis, waitFor } from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRouteTable } from '../src/app.js';
import { type ApiHarness, digestOf, expectProblemShape, startApi } from './support/api-harness.js';
import { loadVariant, variantFiles } from './support/source-variants.js';

const redisServer = useRedis();
let api: ApiHarness;

beforeAll(async () => {
  api = await startApi(redisServer(), { testDeliveryWaitMs: 100 });
});
afterAll(async () => {
  await api?.close();
});

async function issue(ns: string, body: Record<string, unknown> = {}, token = api.adminToken) {
  const response = await api.request('POST', `/v1/namespaces/${ns}/tokens`, { token, body });
  expect(response.status, response.text).toBe(201);
  return response.body as { id: string; token: string; scope: string; expiresAt: number | null };
}

describe('scopes: every route with every kind of token', () => {
  type Who = 'global' | 'ingestGlobal' | 'admin' | 'read' | 'ingest' | 'foreign';
  /** The route table's name for each kind of token in `Who` (but the foreign one). */
  const WHO_CALLERS: RouteCaller[] = ['admin-token', 'ingest-token', 'admin', 'read', 'ingest'];
  let ns: string;
  let tokens: Record<Who, string>;
  let triggerId: string;

  beforeAll(async () => {
    ns = uniqueName('scopes');
    const foreignNs = uniqueName('foreign');
    tokens = {
      global: api.adminToken,
      ingestGlobal: api.ingestToken,
      admin: (await issue(ns)).token,
      read: (await issue(ns, { scope: 'read' })).token,
      ingest: (await issue(ns, { scope: 'ingest' })).token,
      foreign: (await issue(foreignNs)).token,
    };
    const repo = `/v1/namespaces/${ns}/repositories/app`;
    await api.request('PUT', repo, { token: api.adminToken, body: { repoType: 'PUBLIC' } });
    const created = await api.request('POST', `${repo}/triggers`, {
      token: api.adminToken,
      body: { name: 't', url: 'https://hooks.example.com/x', type: 'ALL', secret: 'a-secret-value' },
    });
    triggerId = created.body.id;
  });

  // What each kind of token gets: [global admin, global ingest, ns admin, ns read, ns ingest, other ns admin].
  // A write that would succeed is sent to a throwaway object so the table's order does not matter.
  // Each row names its route as the OpenAPI document does: a route missing here fails the test below.
  /** A request's own content type and headers, where a route needs them. */
  type Extra = { contentType?: string; headers?: Record<string, string> };
  const table = (): Array<[string, string, () => string, unknown, number[], Extra?]> => {
    const repo = `/v1/namespaces/${ns}/repositories/app`;
    const trigger = `${repo}/triggers/${triggerId}`;
    const event = { namespace: ns, repository: 'app', tag: 'v1', digest: digestOf(1) };
    const fresh = () => `/v1/namespaces/${ns}/repositories/${uniqueName('r')}`;
    const R = '/v1/namespaces/{ns}/repositories/{repo}';
    const T = `${R}/triggers/{id}`;
    return [
      ['GET', '/v1/namespaces', () => '/v1/namespaces', undefined, [200, 403, 403, 403, 403, 403]],
      [
        'GET',
        '/v1/namespaces/{ns}/repositories',
        () => `/v1/namespaces/${ns}/repositories`,
        undefined,
        [200, 403, 200, 200, 403, 404],
      ],
      ['GET', R, () => repo, undefined, [200, 403, 200, 200, 403, 404]],
      ['PUT', R, fresh, { repoType: 'PUBLIC' }, [201, 403, 201, 403, 403, 404]],
      ['DELETE', R, fresh, undefined, [404, 403, 404, 403, 403, 404]],
      ['GET', `${R}/triggers`, () => `${repo}/triggers`, undefined, [200, 403, 200, 200, 403, 404]],
      ['GET', T, () => trigger, undefined, [200, 403, 200, 200, 403, 404]],
      [
        'POST',
        `${R}/triggers`,
        () => `${fresh()}/triggers`,
        { name: 'n', url: 'https://hooks.example.com/y', type: 'ALL' },
        [201, 403, 201, 403, 403, 404],
      ],
      [
        'PUT',
        T,
        () => trigger,
        { name: 't', url: 'https://hooks.example.com/x', type: 'ALL', secret: '***' },
        [200, 403, 200, 403, 403, 404],
      ],
      ['PATCH', T, () => trigger, { enabled: true }, [200, 403, 200, 403, 403, 404]],
      ['DELETE', T, () => `${repo}/triggers/nope`, undefined, [404, 403, 404, 403, 403, 404]],
      ['POST', `${T}/test`, () => `${repo}/triggers/nope/test`, undefined, [404, 403, 404, 403, 403, 404]],
      [
        'POST',
        `${T}/records/{recordId}/redeliver`,
        () => `${trigger}/records/1-0/redeliver`,
        undefined,
        [404, 403, 404, 403, 403, 404],
      ],
      [
        'POST',
        `${T}/records/{recordId}/cancel`,
        () => `${trigger}/records/1-0/cancel`,
        undefined,
        [404, 403, 404, 403, 403, 404],
      ],
      [
        'POST',
        '/v1/namespaces/{ns}/tokens',
        () => `/v1/namespaces/${ns}/tokens`,
        {},
        [201, 403, 201, 403, 403, 404],
      ],
      [
        'GET',
        '/v1/namespaces/{ns}/tokens',
        () => `/v1/namespaces/${ns}/tokens`,
        undefined,
        [200, 403, 200, 403, 403, 404],
      ],
      [
        'DELETE',
        '/v1/namespaces/{ns}/tokens/{tokenId}',
        () => `/v1/namespaces/${ns}/tokens/${'0'.repeat(24)}`,
        undefined,
        [404, 403, 404, 403, 403, 404],
      ],
      [
        'POST',
        '/v1/namespaces/{ns}/tokens/{tokenId}/rotate',
        () => `/v1/namespaces/${ns}/tokens/${'0'.repeat(24)}/rotate`,
        {},
        [404, 403, 404, 403, 403, 404],
      ],
      // The namespace has no CA bundle, and a PUT of one that is not PEM is refused after the scope check.
      [
        'GET',
        '/v1/namespaces/{ns}/ca-bundle',
        () => `/v1/namespaces/${ns}/ca-bundle`,
        undefined,
        [404, 403, 404, 404, 403, 404],
      ],
      [
        'PUT',
        '/v1/namespaces/{ns}/ca-bundle',
        () => `/v1/namespaces/${ns}/ca-bundle`,
        'not a certificate',
        [400, 403, 400, 403, 403, 404],
        { contentType: 'application/x-pem-file' },
      ],
      [
        'DELETE',
        '/v1/namespaces/{ns}/ca-bundle',
        () => `/v1/namespaces/${ns}/ca-bundle`,
        undefined,
        [404, 403, 404, 403, 403, 404],
      ],
      ['POST', '/v1/events/push', () => '/v1/events/push', [event], [202, 202, 202, 403, 202, 403]],
      // A batch with another namespace's event.
      [
        'POST',
        '/v1/events/push',
        () => '/v1/events/push',
        [event, { ...event, namespace: uniqueName('else') }],
        [202, 202, 403, 403, 403, 403],
      ],
      [
        'POST',
        '/v1/events/distribution',
        () => '/v1/events/distribution',
        {
          events: [
            {
              id: uniqueName('d'),
              action: 'push',
              target: { repository: `${ns}/app`, tag: 'v1', digest: digestOf(2) },
            },
          ],
        },
        [202, 202, 202, 403, 202, 403],
      ],
      // Each registry route with a documented push of one tag, placed in {ns} by ?namespace=.
      ...registryPushes().map(
        ({ source, body, extra }): [string, string, () => string, unknown, number[], Extra] => [
          'POST',
          `/v1/events/${source}`,
          () => `/v1/events/${source}?namespace=${ns}`,
          body,
          [202, 202, 202, 403, 202, 403],
          extra,
        ],
      ),
    ];
  };

  it('has a scope decision for every route of the api that takes a token, as the route table declares', () => {
    const secured = apiRouteTable.filter((route) => !route.public);
    const decided = new Set(table().map(([method, route]) => `${method} ${route}`));
    expect([...decided].sort()).toEqual(secured.map(routeKey).sort());
    // A caller the table names is let through (2xx, or 4xx other than 403); one it does not name
    // is 403. The first row of a route is its plain request (later ones post for other namespaces).
    const checked = new Set<string>();
    for (const [method, name, , , statuses] of table()) {
      if (checked.has(`${method} ${name}`)) continue;
      checked.add(`${method} ${name}`);
      const route = secured.find((r) => routeKey(r) === `${method} ${name}`)!;
      for (const [i, kind] of WHO_CALLERS.entries()) {
        expect(statuses[i] !== 403, `${method} ${name} as ${kind}`).toBe(route.callers.includes(kind));
      }
    }
  });

  it('answers each route as the scope says: read = GETs, ingest = events, 404 for another tenant', async () => {
    const who: Who[] = ['global', 'ingestGlobal', 'admin', 'read', 'ingest', 'foreign'];
    const got: string[] = [];
    const want: string[] = [];
    for (const [method, name, path, body, statuses, extra] of table()) {
      for (const [i, kind] of who.entries()) {
        const response = await api.request(method, path(), {
          token: tokens[kind],
          body,
          ...(method === 'PATCH' ? { contentType: 'application/merge-patch+json' } : {}),
          ...(name === '/v1/events/distribution'
            ? { contentType: 'application/vnd.docker.distribution.events.v2+json' }
            : {}),
          ...extra,
        });
        if (response.status >= 400) expectProblemShape(response, response.status);
        got.push(`${method} ${name} ${JSON.stringify(body)?.slice(0, 40)} as ${kind}: ${response.status}`);
        want.push(`${method} ${name} ${JSON.stringify(body)?.slice(0, 40)} as ${kind}: ${statuses[i]}`);
      }
    }
    expect(got).toEqual(want);
  });

  it('a batch refused for another namespace enqueues nothing', async () => {
    const queue = api.inspectQueue('push-events');
    const before = await queue.getJobCounts();
    const event = { namespace: ns, repository: 'app', tag: 'v9', digest: digestOf(9) };
    const refused = await api.request('POST', '/v1/events/push', {
      token: tokens.ingest,
      body: [event, { ...event, namespace: uniqueName('else') }],
    });
    expect(expectProblemShape(refused, 403).detail).toMatch(/namespace/);
    expect(await queue.getJobCounts()).toEqual(before);
  });

  it('a read token sees the trigger with its secret masked', async () => {
    const response = await api.request('GET', `/v1/namespaces/${ns}/repositories/app/triggers/${triggerId}`, {
      token: tokens.read,
    });
    expect(response.status).toBe(200);
    expect(response.body.secret).toBe('***');
  });
});

describe('the lifecycle', () => {
  it('lists tokens without secrets, with name, scope, expiry and lastUsedAt', async () => {
    const ns = uniqueName('list');
    const expiresAt = Date.now() + 3_600_000;
    const ci = await issue(ns, { name: 'ci', scope: 'ingest', expiresAt: new Date(expiresAt).toISOString() });
    expect(ci.expiresAt).toBe(expiresAt);
    const listed = await api.request('GET', `/v1/namespaces/${ns}/tokens`, { token: api.adminToken });
    expect(listed.status).toBe(200);
    expect(listed.text).not.toContain(ci.token);
    expect(listed.body.tokens).toEqual([
      {
        id: ci.id,
        name: 'ci',
        scope: 'ingest',
        createdAt: expect.any(Number),
        expiresAt,
        lastUsedAt: null,
        prefix: expect.any(String),
      },
    ]);
    await api.request('POST', '/v1/events/push', {
      token: ci.token,
      body: { namespace: ns, repository: 'app', tag: 'v1', digest: digestOf(2) },
    });
    await waitFor(
      async () => {
        const again = await api.request('GET', `/v1/namespaces/${ns}/tokens`, { token: api.adminToken });
        return again.body.tokens[0].lastUsedAt !== null;
      },
      { message: 'lastUsedAt to be set' },
    );
  });

  it('bad bodies name the field: scope, expiresAt in the past, unknown fields, graceSeconds', async () => {
    const ns = uniqueName('bad');
    const cases: Array<[string, unknown, string]> = [
      [`/v1/namespaces/${ns}/tokens`, { scope: 'owner' }, 'scope'],
      [`/v1/namespaces/${ns}/tokens`, { expiresAt: Date.now() - 1000 }, 'expiresAt'],
      [`/v1/namespaces/${ns}/tokens`, { expiresAt: 'tomorrow' }, 'expiresAt'],
      [`/v1/namespaces/${ns}/tokens`, { name: 'x'.repeat(65) }, 'name'],
      [`/v1/namespaces/${ns}/tokens`, { owner: 'me' }, '(body)'],
    ];
    const { id } = await issue(ns);
    cases.push([`/v1/namespaces/${ns}/tokens/${id}/rotate`, { graceSeconds: 86_401 }, 'graceSeconds']);
    cases.push([`/v1/namespaces/${ns}/tokens/${id}/rotate`, { graceSeconds: -1 }, 'graceSeconds']);
    for (const [path, body, field] of cases) {
      const problem = expectProblemShape(
        await api.request('POST', path, { token: api.adminToken, body }),
        400,
      );
      expect(
        problem.errors?.map((e) => e.path),
        JSON.stringify(body),
      ).toContain(field);
    }
  });

  it('a revoked token is refused (401) by the very next request', async () => {
    const ns = uniqueName('revoke');
    const { id, token } = await issue(ns);
    const path = `/v1/namespaces/${ns}/repositories`;
    expect((await api.request('GET', path, { token })).status).toBe(200);
    expect(
      (await api.request('DELETE', `/v1/namespaces/${ns}/tokens/${id}`, { token: api.adminToken })).status,
    ).toBe(204);
    expectProblemShape(await api.request('GET', path, { token }), 401);
    expectProblemShape(
      await api.request('DELETE', `/v1/namespaces/${ns}/tokens/${id}`, { token: api.adminToken }),
      404,
    );
    expect(await api.redis.hlen(keys.namespaceTokens(ns))).toBe(0);
  });

  it('an expired token is refused like an unknown one (401) and drops out of the list', async () => {
    const ns = uniqueName('expire');
    const { token } = await issue(ns, { expiresAt: Date.now() + 500 });
    const path = `/v1/namespaces/${ns}/repositories`;
    expect((await api.request('GET', path, { token })).status).toBe(200);
    await waitFor(async () => (await api.request('GET', path, { token })).status === 401, {
      timeoutMs: 5000,
      message: 'the token to expire',
    });
    const listed = await api.request('GET', `/v1/namespaces/${ns}/tokens`, { token: api.adminToken });
    expect(listed.body.tokens).toEqual([]);
  });

  it('rotation: a new token of the same name and scope; the old one works for the grace period, then stops', async () => {
    const ns = uniqueName('rotate');
    const old = await issue(ns, { name: 'deploy', scope: 'read' });
    const path = `/v1/namespaces/${ns}/repositories`;
    const rotatedAt = Date.now();
    const rotated = await api.request('POST', `/v1/namespaces/${ns}/tokens/${old.id}/rotate`, {
      token: api.adminToken,
      body: { graceSeconds: 1 },
    });
    expect(rotated.status).toBe(201);
    expect(rotated.body).toMatchObject({ name: 'deploy', scope: 'read', expiresAt: null });
    expect(rotated.body.id).not.toBe(old.id);
    expect((await api.request('GET', path, { token: rotated.body.token })).status).toBe(200);
    const listed = await api.request('GET', `/v1/namespaces/${ns}/tokens`, { token: api.adminToken });
    const oldListed = listed.body.tokens.find((t: { id: string }) => t.id === old.id);
    expect(oldListed.expiresAt).toBeGreaterThanOrEqual(rotatedAt + 1000);
    expect(oldListed.expiresAt).toBeLessThanOrEqual(Date.now() + 1000);
    // Still inside the grace period (the expiry above says so), the old token works.
    if (Date.now() < oldListed.expiresAt) {
      const during = await api.request('GET', path, { token: old.token });
      if (Date.now() < oldListed.expiresAt) expect(during.status).toBe(200);
    }
    await waitFor(async () => (await api.request('GET', path, { token: old.token })).status === 401, {
      timeoutMs: 5000,
      message: 'the old token to stop after its grace',
    });
    expect((await api.request('GET', path, { token: rotated.body.token })).status).toBe(200);
  });

  it('rotation without grace ends the old token at once; an unknown id is 404', async () => {
    const ns = uniqueName('rotate0');
    const old = await issue(ns);
    const rotated = await api.request('POST', `/v1/namespaces/${ns}/tokens/${old.id}/rotate`, {
      token: api.adminToken,
    });
    expect(rotated.status).toBe(201);
    expectProblemShape(
      await api.request('GET', `/v1/namespaces/${ns}/repositories`, { token: old.token }),
      401,
    );
    expectProblemShape(
      await api.request('POST', `/v1/namespaces/${ns}/tokens/${old.id}/rotate`, { token: api.adminToken }),
      404,
    );
  });

  it('a token stored before scopes (only createdAt) keeps working as an admin token, listed and revocable', async () => {
    const ns = uniqueName('legacy');
    const token = `rtn.${Buffer.from(ns).toString('base64url')}.${'L'.repeat(43)}`;
    await api.redis.hset(
      keys.namespaceTokens(ns),
      hashToken(token),
      JSON.stringify({ createdAt: 1_700_000_000_000 }),
    );
    const put = await api.request('PUT', `/v1/namespaces/${ns}/repositories/app`, {
      token,
      body: { repoType: 'PUBLIC' },
    });
    expect(put.status).toBe(201);
    const listed = await api.request('GET', `/v1/namespaces/${ns}/tokens`, { token });
    expect(listed.body.tokens).toEqual([
      {
        id: hashToken(token).slice(0, 24),
        name: '',
        scope: 'admin',
        createdAt: 1_700_000_000_000,
        expiresAt: null,
        lastUsedAt: expect.any(Number),
        prefix: null,
      },
    ]);
    const id = listed.body.tokens[0].id;
    expect((await api.request('DELETE', `/v1/namespaces/${ns}/tokens/${id}`, { token })).status).toBe(204);
    expectProblemShape(await api.request('GET', `/v1/namespaces/${ns}/repositories`, { token }), 401);
  });

  it('GET /v1/namespaces lists namespaces with repository and trigger counts', async () => {
    const ns = uniqueName('counted');
    for (const repo of ['a', 'team%2Fb']) {
      await api.request('PUT', `/v1/namespaces/${ns}/repositories/${repo}`, {
        token: api.adminToken,
        body: { repoType: 'PUBLIC' },
      });
    }
    for (const name of ['x', 'y']) {
      await api.request('POST', `/v1/namespaces/${ns}/repositories/a/triggers`, {
        token: api.adminToken,
        body: { name, url: 'https://hooks.example.com/x', type: 'ALL' },
      });
    }
    const onlyTokens = uniqueName('tokens-only');
    await issue(onlyTokens);
    const response = await api.request('GET', '/v1/namespaces', { token: api.adminToken });
    expect(response.status).toBe(200);
    expect(response.body.namespaces).toContainEqual({ name: ns, repositories: 2, triggers: 2 });
    expect(response.body.namespaces).toContainEqual({ name: onlyTokens, repositories: 0, triggers: 0 });
  });

  it('DELETE repository: 204, its triggers are gone, its records stay; again 404', async () => {
    const ns = uniqueName('delrepo');
    const repo = `/v1/namespaces/${ns}/repositories/app`;
    await api.request('PUT', repo, { token: api.adminToken, body: { repoType: 'PUBLIC' } });
    const trigger = await api.request('POST', `${repo}/triggers`, {
      token: api.adminToken,
      body: { name: 'x', url: 'https://hooks.example.com/x', type: 'ALL' },
    });
    const recordId = await api.records.append({
      triggerId: trigger.body.id,
      triggerName: 'x',
      triggerUrl: 'https://hooks.example.com/x',
      triggerType: 'ALL',
      triggerTag: '',
      eventId: 'e1',
      deliveryId: 'msg_1',
      namespace: ns,
      repository: 'app',
      tag: 'v1',
      digest: digestOf(3),
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
    expect((await api.request('DELETE', repo, { token: api.adminToken })).status).toBe(204);
    expectProblemShape(await api.request('GET', repo, { token: api.adminToken }), 404);
    expect(await api.redis.hlen(keys.triggers(ns, 'app'))).toBe(0);
    expect(await api.records.get(ns, recordId)).toBeDefined();
    expectProblemShape(await api.request('DELETE', repo, { token: api.adminToken }), 404);
  });
});

/**
 * Per registry route, the first variant fixture (fixtures/sources/variants) that the route
 * answers 202 with pushes: the scope table tries each route with a real body of its source.
 */
function registryPushes(): Array<{
  source: string;
  body: unknown;
  extra: { contentType?: string; headers?: Record<string, string> };
}> {
  const firsts = new Map<
    string,
    { body: unknown; extra: { contentType?: string; headers: Record<string, string> } }
  >();
  for (const file of variantFiles()) {
    const source = file.slice(0, file.indexOf('/'));
    const { request, expect: expected } = loadVariant(file);
    if (firsts.has(source) || expected.status !== 202 || !expected.pushes?.length) continue;
    const headers = { ...request.headers };
    const typeKey = Object.keys(headers).find((key) => key.toLowerCase() === 'content-type');
    const contentType = typeKey ? headers[typeKey] : undefined;
    if (typeKey) delete headers[typeKey];
    firsts.set(source, {
      body: request.body ?? request.bodyText,
      extra: { ...(contentType ? { contentType } : {}), headers },
    });
  }
  return [...firsts].map(([source, found]) => ({ source, ...found }));
}
