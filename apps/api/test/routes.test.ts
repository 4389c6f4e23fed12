// Every resource route of the contract over real HTTP against a real Redis: status codes,
// problem+json bodies, validation messages, secrets, the trigger cap and manual deliveries.
import { HTTP_PORT_RULE, HTTPS_PORT_RULE } from '@registry-triggers/core';
import {
  type DeliveryJob,
  hashToken,
  keys,
  queueNames,
  RecordStore,
  TriggerStore,
} from '@registry-triggers/store';
import { uniqueName, useRedis } from '@registry-triggers/testing';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DIGEST } from '../src/delivery-requests.js';
import { type ApiHarness, expectProblemShape, startApi } from './support/api-harness.js';

const TRIGGER_CAP = 3;
const MAX_BODY_BYTES = 64 * 1024;
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

const redisServer = useRedis();
let api: ApiHarness;
let admin: string;

beforeAll(async () => {
  api = await startApi(redisServer(), {
    triggersPerRepository: TRIGGER_CAP,
    maxBodyBytes: MAX_BODY_BYTES,
    testDeliveryWaitMs: 1500,
  });
  admin = api.adminToken;
});
afterAll(async () => {
  await api?.close();
});

const triggerBody = (overrides: Record<string, unknown> = {}) => ({
  name: 'redeploy',
  url: 'https://hooks.example.com/x',
  type: 'ALL',
  ...overrides,
});

async function createTrigger(ns: string, repo: string, body: Record<string, unknown> = triggerBody()) {
  const response = await api.request('POST', `/v1/namespaces/${ns}/repositories/${repo}/triggers`, {
    token: admin,
    body,
  });
  if (response.status !== 201) throw new Error(`create trigger: ${response.status} ${response.text}`);
  return response.body as { id: string; secret?: string } & Record<string, unknown>;
}

describe('health, metrics and the document (no token)', () => {
  it('GET /healthz and /readyz answer 200 while Redis runs', async () => {
    const health = await api.request('GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
    const ready = await api.request('GET', '/readyz');
    expect(ready.status).toBe(200);
    // Redis takes writes; no worker runs beside this api, and the body says so.
    expect(ready.body).toMatchObject({ status: 'ready', redis: 'writable', workers: { alive: 0 } });
    expect(ready.body.warnings[0]).toMatch(/no worker/);
  });

  it('every answer, JSON or problem, tells browsers not to sniff its type', async () => {
    for (const [path, token] of [
      ['/healthz', undefined],
      ['/openapi.json', undefined],
      ['/v1/namespaces', admin],
      ['/v1/namespaces', undefined],
      ['/v1/no-such-route', admin],
    ] as const) {
      const answer = await api.request('GET', path, token === undefined ? {} : { token });
      expect(answer.headers.get('x-content-type-options'), `${path} ${answer.status}`).toBe('nosniff');
    }
  });

  it('GET /metrics is Prometheus text that counts requests by route', async () => {
    await api.request('GET', '/healthz');
    const metrics = await api.request('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(metrics.text).toMatch(/^http_requests_total\{.*route="\/healthz".*status="200".*\} \d+$/m);
    expect(metrics.text).toContain('# TYPE push_events_total counter');
  });

  it('GET /openapi.json is an OpenAPI 3.1 document', async () => {
    const doc = await api.request('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.headers.get('content-type')).toMatch(/^application\/json/);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths).length).toBeGreaterThan(10);
  });
});

describe('problem+json for requests the api cannot take', () => {
  it('malformed JSON is 400 malformed-json', async () => {
    for (const [path, method] of [
      ['/v1/events/push', 'POST'],
      ['/v1/namespaces/bad/repositories/app', 'PUT'],
      ['/v1/namespaces/bad/repositories/app/triggers', 'POST'],
    ] as const) {
      const response = await api.request(method, path, { token: admin, body: '{"name": "x",' });
      const problem = expectProblemShape(response, 400);
      expect(problem.code).toBe('malformed-json');
      expect(problem.type).toBe('https://registry-triggers.dev/problems/malformed-json');
      expect(problem.title).toBe('Bad Request');
      expect(problem.detail).toMatch(/not valid JSON/);
    }
  });

  it('a JSON scalar at the top level is 400, not 500', async () => {
    for (const body of ['null', '42', '"text"', 'true']) {
      const response = await api.request('POST', '/v1/events/push', { token: admin, body });
      // Valid JSON, so the answer says what is wrong with it instead.
      expect(expectProblemShape(response, 400).detail).toBe('the body must be a JSON object or array');
    }
  });

  it('a body that is not JSON is 415 on every route that takes one', async () => {
    const ns = uniqueName();
    const trigger = await createTrigger(ns, 'app');
    const routes: Array<[string, string]> = [
      ['POST', '/v1/events/push'],
      ['POST', '/v1/events/distribution'],
      ['PUT', `/v1/namespaces/${ns}/repositories/app`],
      ['POST', `/v1/namespaces/${ns}/repositories/app/triggers`],
      ['PUT', `/v1/namespaces/${ns}/repositories/app/triggers/${trigger.id}`],
    ];
    for (const [method, path] of routes) {
      for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
        const response = await api.request(method, path, { token: admin, body: '{}', contentType });
        const problem = expectProblemShape(response, 415);
        expect(problem.code).toBe('unsupported-media-type');
        expect(problem.detail).toContain(contentType);
      }
      // No body and no Content-Type at all.
      expectProblemShape(await api.request(method, path, { token: admin }), 415);
    }
  });

  it('a body over the limit is 413', async () => {
    const big = JSON.stringify({ namespace: 'a', padding: 'x'.repeat(MAX_BODY_BYTES) });
    const problem = expectProblemShape(
      await api.request('POST', '/v1/events/push', { token: admin, body: big }),
      413,
    );
    expect(problem.code).toBe('body-too-large');
    expect(problem.title).toBe('Content Too Large');
    // The server is still there and answers the next request on a fresh connection.
    expect((await api.request('GET', '/healthz')).status).toBe(200);
  });

  it('an unknown route is 404 route-not-found', async () => {
    const cases: Array<[string, string, string | undefined]> = [
      ['GET', '/nope', undefined],
      ['GET', '/v1/nothing-here', admin],
      ['GET', '/v1/namespaces/a/records', admin],
    ];
    for (const [method, path, token] of cases) {
      const problem = expectProblemShape(await api.request(method, path, { token }), 404);
      expect(problem.code).toBe('route-not-found');
      expect(problem.detail).toContain(method);
    }
  });

  it('a method a route does not take is 405 with the methods it takes in Allow', async () => {
    const cases: Array<[string, string, string]> = [
      ['POST', '/healthz', 'GET, HEAD'],
      ['POST', '/v1/namespaces/a/repositories/app', 'DELETE, GET, HEAD, PUT'],
      ['PATCH', '/v1/namespaces/a/repositories/app', 'DELETE, GET, HEAD, PUT'],
      ['POST', '/v1/namespaces/a/repositories/app/triggers/x', 'DELETE, GET, HEAD, PATCH, PUT'],
      ['GET', '/v1/events/push', 'POST'],
    ];
    for (const [method, path, allow] of cases) {
      const response = await api.request(method, path, { token: admin });
      const problem = expectProblemShape(response, 405);
      expect(problem.code).toBe('method-not-allowed');
      expect(problem.detail).toContain(method);
      expect(response.headers.get('allow')).toBe(allow);
    }
  });

  it('a missing or invalid token is 401 with WWW-Authenticate, before the body is read', async () => {
    const ns = uniqueName();
    const real = await api.issueToken(ns);
    // The right namespace label on a secret that was never issued.
    const forged = `${real.slice(0, real.lastIndexOf('.'))}.${'A'.repeat(43)}`;
    const relabelled = `rtn.${Buffer.from('other').toString('base64url')}.${real.slice(real.lastIndexOf('.') + 1)}`;
    const headerCases: Array<Record<string, string>> = [
      {},
      { authorization: '' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer ' },
      { authorization: `Basic ${Buffer.from(`admin:${admin}`).toString('base64')}` },
      { authorization: `Bearer ${admin}x` },
      { authorization: `Bearer ${admin} extra` },
      { authorization: `Bearer ${forged}` },
      { authorization: `Bearer ${relabelled}` },
      { authorization: 'Bearer rtn.!!!.x' },
    ];
    for (const headers of headerCases) {
      for (const [method, path, body] of [
        ['GET', `/v1/namespaces/${ns}/repositories`, undefined],
        ['POST', '/v1/events/push', '{not json'],
        ['POST', `/v1/namespaces/${ns}/repositories/app/triggers`, 'x'.repeat(MAX_BODY_BYTES + 1)],
      ] as const) {
        const response = await api.request(method, path, { headers, body });
        const problem = expectProblemShape(response, 401);
        expect(problem.code).toBe('unauthorized');
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
      }
    }
    // The real one works, case-insensitive scheme included.
    const ok = await api.request('GET', `/v1/namespaces/${ns}/repositories`, {
      headers: { authorization: `bearer ${real}` },
    });
    expect(ok.status).toBe(200);
  });

  it('the ingest token is 403 on every route but the event routes', async () => {
    const ns = uniqueName();
    const trigger = await createTrigger(ns, 'app');
    const base = `/v1/namespaces/${ns}/repositories/app`;
    const routes: Array<[string, string, unknown]> = [
      ['POST', `/v1/namespaces/${ns}/tokens`, undefined],
      ['PUT', base, { repoType: 'PUBLIC' }],
      ['GET', base, undefined],
      ['GET', `/v1/namespaces/${ns}/repositories`, undefined],
      ['POST', `${base}/triggers`, triggerBody()],
      ['GET', `${base}/triggers`, undefined],
      ['GET', `${base}/triggers/${trigger.id}`, undefined],
      ['PUT', `${base}/triggers/${trigger.id}`, triggerBody()],
      ['DELETE', `${base}/triggers/${trigger.id}`, undefined],
      ['POST', `${base}/triggers/${trigger.id}/test`, undefined],
      ['POST', `${base}/triggers/${trigger.id}/records/1-0/redeliver`, undefined],
    ];
    for (const [method, path, body] of routes) {
      const problem = expectProblemShape(
        await api.request(method, path, { token: api.ingestToken, body }),
        403,
      );
      expect(problem.code).toBe('forbidden');
    }
    // Nothing changed.
    expect((await api.request('GET', `${base}/triggers/${trigger.id}`, { token: admin })).status).toBe(200);
    expect((await api.request('GET', base, { token: admin })).status).toBe(404);
  });

  it('path parameters that break the name rules are 400 naming the parameter', async () => {
    const badNs = expectProblemShape(
      await api.request('GET', '/v1/namespaces/Upper/repositories', { token: admin }),
      400,
    );
    expect(badNs.code).toBe('validation-failed');
    expect(badNs.errors).toEqual([{ path: 'path.ns', message: expect.stringMatching(/^namespace must be/) }]);
    const badRepo = expectProblemShape(
      await api.request('GET', '/v1/namespaces/ok/repositories/a%2F%2Fb', { token: admin }),
      400,
    );
    expect(badRepo.errors?.[0]?.path).toBe('path.repo');
    const undecodable = expectProblemShape(
      await api.request('GET', '/v1/namespaces/ok/repositories/%E0%A4%A', { token: admin }),
      400,
    );
    expect(undecodable.detail).toContain('decode');
  });

  it('a whole name ns/repo longer than the distribution limit (255) is 400 naming the repository', async () => {
    const ns = 'n'.repeat(200);
    const within = await api.request('PUT', `/v1/namespaces/${ns}/repositories/${'r'.repeat(54)}`, {
      token: admin,
      body: { repoType: 'PUBLIC' },
    });
    expect(within.status).toBe(201);
    const over = expectProblemShape(
      await api.request('PUT', `/v1/namespaces/${ns}/repositories/${'r'.repeat(55)}`, {
        token: admin,
        body: { repoType: 'PUBLIC' },
      }),
      400,
    );
    expect(over.errors).toEqual([
      { path: 'path.repo', message: 'namespace/repository must be at most 255 characters' },
    ]);
  });
});

describe('tokens', () => {
  it('the admin issues a namespace token: 201, shown once, stored only as its hash', async () => {
    const ns = uniqueName();
    const response = await api.request('POST', `/v1/namespaces/${ns}/tokens`, { token: admin });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      namespace: ns,
      token: expect.any(String),
      name: '',
      scope: 'admin',
      createdAt: expect.any(Number),
      expiresAt: null,
      prefix: expect.any(String),
    });
    expect(response.body.token.startsWith(response.body.prefix)).toBe(true);
    const token = response.body.token as string;
    const stored = await api.redis.hgetall(keys.namespaceTokens(ns));
    expect(Object.keys(stored)).toEqual([hashToken(token)]);
    expect(JSON.stringify(stored)).not.toContain(token);
    // A second token for the same namespace: both work.
    const second = await api.issueToken(ns);
    for (const t of [token, second]) {
      expect((await api.request('GET', `/v1/namespaces/${ns}/repositories`, { token: t })).status).toBe(200);
    }
  });

  it('a namespace admin token issues tokens of its own namespace only (another is 404); a read token none (403)', async () => {
    const ns = uniqueName();
    const token = await api.issueToken(ns);
    expectProblemShape(await api.request('POST', `/v1/namespaces/${uniqueName()}/tokens`, { token }), 404);
    const read = await api.request('POST', `/v1/namespaces/${ns}/tokens`, { token, body: { scope: 'read' } });
    expect(read.status).toBe(201);
    const problem = expectProblemShape(
      await api.request('POST', `/v1/namespaces/${ns}/tokens`, { token: read.body.token }),
      403,
    );
    expect(problem.detail).toContain('read');
    expect(await api.redis.hlen(keys.namespaceTokens(ns))).toBe(2);
  });

  it('an invalid namespace name is 400', async () => {
    const problem = expectProblemShape(
      await api.request('POST', '/v1/namespaces/-x-/tokens', { token: admin }),
      400,
    );
    expect(problem.errors?.[0]?.path).toBe('path.ns');
  });
});

describe('repositories', () => {
  it('PUT creates (201) then updates (200), GET reads it, names may hold %2F-encoded slashes', async () => {
    const ns = uniqueName();
    const token = await api.issueToken(ns);
    const path = `/v1/namespaces/${ns}/repositories/team%2Fapp`;
    const created = await api.request('PUT', path, { token, body: { repoType: 'PUBLIC' } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      namespace: ns,
      name: 'team/app',
      repoType: 'PUBLIC',
      authenticationType: 'NO_CERTIFIED',
      originType: 'NO_CERTIFIED',
      createdAt: expect.any(Number),
      updatedAt: created.body.createdAt,
    });
    const updated = await api.request('PUT', path, {
      token,
      body: { repoType: 'PRIVATE', authenticationType: 'CERTIFIED', originType: 'GITHUB' },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      name: 'team/app',
      repoType: 'PRIVATE',
      authenticationType: 'CERTIFIED',
      originType: 'GITHUB',
      createdAt: created.body.createdAt,
    });
    expect(updated.body.updatedAt).toBeGreaterThanOrEqual(created.body.updatedAt);
    const read = await api.request('GET', path, { token });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(updated.body);
    // Lower-case %2f decodes the same way.
    expect(
      (await api.request('GET', `/v1/namespaces/${ns}/repositories/team%2fapp`, { token })).body,
    ).toEqual(updated.body);
    // A repository as read, edited and sent back is a valid PUT; the times it holds are ignored.
    const resent = await api.request('PUT', path, {
      token,
      body: { ...read.body, repoType: 'PUBLIC', createdAt: 0 },
    });
    expect(resent.status).toBe(200);
    expect(resent.body).toMatchObject({
      name: 'team/app',
      repoType: 'PUBLIC',
      createdAt: created.body.createdAt,
    });
  });

  it('GET of a repository that does not exist is 404 not-found', async () => {
    const problem = expectProblemShape(
      await api.request('GET', `/v1/namespaces/${uniqueName()}/repositories/nothing`, { token: admin }),
      404,
    );
    expect(problem.code).toBe('not-found');
  });

  it('a bad body is 400 naming each field and rule', async () => {
    const path = `/v1/namespaces/${uniqueName()}/repositories/app`;
    const cases: Array<[unknown, string, RegExp]> = [
      [{}, 'repoType', /^repoType must be PUBLIC or PRIVATE$/],
      [{ repoType: 'SECRET' }, 'repoType', /^repoType must be PUBLIC or PRIVATE$/],
      [{ repoType: 'PUBLIC', authenticationType: 'lower' }, 'authenticationType', /upper-case/],
      [{ repoType: 'PUBLIC', originType: '' }, 'originType', /^originType must be 1 to 64 /],
      [{ repoType: 'PUBLIC', owner: 'me' }, '(body)', /^unknown field owner; a repository has repoType, /],
      [{ repoType: 'PUBLIC', name: 'other' }, 'name', /^name is read-only: send "app" or leave it out$/],
      [[{ repoType: 'PUBLIC' }], '(body)', /.+/],
    ];
    for (const [body, field, message] of cases) {
      const problem = expectProblemShape(await api.request('PUT', path, { token: admin, body }), 400);
      expect(problem.code).toBe('validation-failed');
      // One error per broken rule: the field and the rule, not a list of zod's internals.
      expect(problem.errors).toEqual([{ path: field, message: expect.stringMatching(message) }]);
    }
    expect((await api.request('GET', path, { token: admin })).status).toBe(404);
  });

  it('the list is in name order, paged with a cursor', async () => {
    const ns = uniqueName();
    const names = ['alpha', 'bravo', 'charlie', 'delta', 'echo/one'];
    for (const name of [...names].reverse()) {
      const response = await api.request(
        'PUT',
        `/v1/namespaces/${ns}/repositories/${encodeURIComponent(name)}`,
        {
          token: admin,
          body: { repoType: 'PUBLIC' },
        },
      );
      expect(response.status).toBe(201);
    }
    const seen: string[] = [];
    const cursors: Array<string | null> = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
      const page = await api.request('GET', `/v1/namespaces/${ns}/repositories${query}`, { token: admin });
      expect(page.status).toBe(200);
      expect(page.body.repositories.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.repositories.map((r: { name: string }) => r.name));
      cursor = page.body.nextCursor;
      cursors.push(cursor);
    } while (cursor && cursors.length < 10);
    expect(seen).toEqual(names);
    expect(cursors).toEqual(['bravo', 'delta', null]);

    const all = await api.request('GET', `/v1/namespaces/${ns}/repositories`, { token: admin });
    expect(all.body.repositories.map((r: { name: string }) => r.name)).toEqual(names);
    expect(all.body.nextCursor).toBeNull();
    // Parameters given empty are absent ones.
    const blank = await api.request('GET', `/v1/namespaces/${ns}/repositories?limit=&cursor=`, {
      token: admin,
    });
    expect(blank.body).toEqual(all.body);
    const empty = await api.request('GET', `/v1/namespaces/${uniqueName()}/repositories`, { token: admin });
    expect(empty.body).toEqual({ repositories: [], nextCursor: null });
  });

  it('a bad limit is 400 naming the query parameter', async () => {
    for (const query of [
      'limit=0',
      'limit=201',
      'limit=abc',
      'limit=1&limit=2',
      `cursor=${'x'.repeat(301)}`,
    ]) {
      const problem = expectProblemShape(
        await api.request('GET', `/v1/namespaces/${uniqueName()}/repositories?${query}`, { token: admin }),
        400,
      );
      expect(problem.errors?.[0]?.path).toMatch(/^query\.(limit|cursor)$/);
    }
  });
});

describe('triggers', () => {
  it('create (201 + Location), list, read, replace, delete (204), then 404', async () => {
    const ns = uniqueName();
    const token = await api.issueToken(ns);
    const base = `/v1/namespaces/${ns}/repositories/team%2Fapp/triggers`;
    const created = await api.request('POST', `${base}?from=test`, {
      token,
      body: triggerBody({ type: 'TAG_LIST', tags: ['v1', 'latest'], headers: { 'X-Env': 'prod' } }),
    });
    expect(created.status).toBe(201);
    const trigger = created.body;
    expect(trigger).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      namespace: ns,
      repository: 'team/app',
      name: 'redeploy',
      url: 'https://hooks.example.com/x',
      type: 'TAG_LIST',
      tags: ['v1', 'latest'],
      enabled: true,
      // Header values are write-only, like the secret.
      headers: { 'X-Env': '***' },
      createdAt: expect.any(Number),
      updatedAt: expect.any(Number),
    });
    expect(created.headers.get('location')).toBe(`${base}/${trigger.id}`);

    const list = await api.request('GET', base, { token });
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ triggers: [trigger] });
    const one = await api.request('GET', `${base}/${trigger.id}`, { token });
    expect(one.status).toBe(200);
    expect(one.body).toEqual(trigger);

    const replaced = await api.request('PUT', `${base}/${trigger.id}`, {
      token,
      body: triggerBody({ name: 'renamed', type: 'TAG_REG_EXP', expression: 'release-v.*', enabled: false }),
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toEqual({
      id: trigger.id,
      namespace: ns,
      repository: 'team/app',
      name: 'renamed',
      url: 'https://hooks.example.com/x',
      type: 'TAG_REG_EXP',
      expression: 'release-v.*',
      enabled: false,
      createdAt: trigger.createdAt,
      updatedAt: expect.any(Number),
    });
    expect((await api.request('GET', `${base}/${trigger.id}`, { token })).body).toEqual(replaced.body);

    const deleted = await api.request('DELETE', `${base}/${trigger.id}`, { token });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    for (const [method, body] of [
      ['GET', undefined],
      ['PUT', triggerBody()],
      ['DELETE', undefined],
      ['POST', undefined],
    ] as const) {
      const path = method === 'POST' ? `${base}/${trigger.id}/test` : `${base}/${trigger.id}`;
      expect(expectProblemShape(await api.request(method, path, { token, body }), 404).code).toBe(
        'not-found',
      );
    }
    expect((await api.request('GET', base, { token })).body).toEqual({ triggers: [] });
  });

  it('an unknown or oversized trigger id is 404', async () => {
    const base = `/v1/namespaces/${uniqueName()}/repositories/app/triggers`;
    for (const id of ['nope', 'x'.repeat(101), '%20', '..']) {
      expectProblemShape(await api.request('GET', `${base}/${id}`, { token: admin }), 404);
    }
  });

  const invalidTriggers: Array<[string, Record<string, unknown>, string, RegExp]> = [
    [
      'http on port 22',
      { url: 'http://hooks.example.com:22/x' },
      'url',
      new RegExp(escapeRegExp(HTTP_PORT_RULE)),
    ],
    [
      'http on port 1024',
      { url: 'http://hooks.example.com:1024/x' },
      'url',
      new RegExp(escapeRegExp(HTTP_PORT_RULE)),
    ],
    [
      'http on port 65536',
      { url: 'http://hooks.example.com:65536/' },
      'url',
      new RegExp(escapeRegExp(HTTP_PORT_RULE)),
    ],
    [
      'https on 8443',
      { url: 'https://hooks.example.com:8443/x' },
      'url',
      new RegExp(escapeRegExp(HTTPS_PORT_RULE)),
    ],
    [
      'https on 80',
      { url: 'https://hooks.example.com:80/x' },
      'url',
      new RegExp(escapeRegExp(HTTPS_PORT_RULE)),
    ],
    ['user-info', { url: 'https://user:pw@hooks.example.com/x' }, 'url', /user-info/],
    ['ftp', { url: 'ftp://hooks.example.com/x' }, 'url', /scheme must be http or https/],
    ['relative', { url: '/x' }, 'url', /absolute/],
    ['spaces', { url: 'https://hooks.example.com/a b' }, 'url', /spaces/],
    [
      '11 tags',
      { type: 'TAG_LIST', tags: Array.from({ length: 11 }, (_, i) => `v${i}`) },
      'tags',
      /1 to 10 tags/,
    ],
    ['no tags', { type: 'TAG_LIST', tags: [] }, 'tags', /1 to 10 tags/],
    ['tags missing', { type: 'TAG_LIST' }, 'tags', /required when type is TAG_LIST/],
    ['repeated tag', { type: 'TAG_LIST', tags: ['v1', 'v1'] }, 'tags.1', /listed twice/],
    ['bad tag', { type: 'TAG_LIST', tags: ['-v1'] }, 'tags.0', /tag must be/],
    ['tags on ALL', { type: 'ALL', tags: ['v1'] }, 'tags', /only allowed when type is TAG_LIST/],
    ['look-ahead', { type: 'TAG_REG_EXP', expression: 'release-(?=v)' }, 'expression', /look-ahead/],
    ['look-behind', { type: 'TAG_REG_EXP', expression: '(?<!x)v1' }, 'expression', /look-behind/],
    ['back-reference', { type: 'TAG_REG_EXP', expression: '(a)\\1' }, 'expression', /back-references/],
    ['unbalanced', { type: 'TAG_REG_EXP', expression: 'v(1' }, 'expression', /not a valid RE2/],
    ['257 characters', { type: 'TAG_REG_EXP', expression: 'a'.repeat(257) }, 'expression', /at most 256/],
    ['expression missing', { type: 'TAG_REG_EXP' }, 'expression', /required when type is TAG_REG_EXP/],
    ['unknown type', { type: 'TAG_PREFIX' }, 'type', /one of ALL, TAG_LIST, TAG_REG_EXP/],
    ['name missing', { name: undefined }, 'name', /name must be a string/],
    ['name too long', { name: 'n'.repeat(65) }, 'name', /1 to 64/],
    ['enabled as text', { enabled: 'yes' }, 'enabled', /true or false/],
    ['short secret', { secret: 'short' }, 'secret', /at least 8/],
    ['bad whsec', { secret: 'whsec_***' }, 'secret', /base64/],
    ['owned header', { headers: { 'Content-Type': 'text/plain' } }, 'headers.Content-Type', /cannot be set/],
    ['webhook header', { headers: { 'webhook-id': 'x' } }, 'headers.webhook-id', /cannot be set/],
    ['CRLF in header', { headers: { 'X-A': 'a\r\nInjected: 1' } }, 'headers.X-A', /control characters/],
    ['unknown field', { filter: 'v1' }, '(body)', /unknown field filter/],
  ];

  it.each(invalidTriggers)(
    '%s is 400 naming the field and the rule',
    async (_label, overrides, field, rule) => {
      const path = `/v1/namespaces/${uniqueName()}/repositories/app/triggers`;
      const problem = expectProblemShape(
        await api.request('POST', path, { token: admin, body: triggerBody(overrides) }),
        400,
      );
      expect(problem.code).toBe('validation-failed');
      expect(problem.errors).toContainEqual({ path: field, message: expect.stringMatching(rule) });
      expect(problem.detail).toMatch(/^\S+: /);
      // PUT applies the same rules.
      const trigger = await createTrigger(uniqueName(), 'app');
      const put = expectProblemShape(
        await api.request(
          'PUT',
          `/v1/namespaces/${trigger.namespace}/repositories/app/triggers/${trigger.id}`,
          {
            token: admin,
            body: triggerBody(overrides),
          },
        ),
        400,
      );
      expect(put.errors).toContainEqual({ path: field, message: expect.stringMatching(rule) });
    },
  );

  it('every failed rule is listed in one answer', async () => {
    const problem = expectProblemShape(
      await api.request('POST', `/v1/namespaces/${uniqueName()}/repositories/app/triggers`, {
        token: admin,
        body: {
          name: '',
          url: 'https://h.example.com:8443',
          type: 'TAG_LIST',
          tags: ['a', 'a'],
          secret: 'x',
        },
      }),
      400,
    );
    expect(problem.errors?.map((e) => e.path).sort()).toEqual(['name', 'secret', 'tags.1', 'url']);
  });

  it.each([
    ['http://hooks.example.com/x'],
    ['http://hooks.example.com:21/x'],
    ['http://hooks.example.com:777/x'],
    ['http://hooks.example.com:1025/x'],
    ['http://hooks.example.com:65535/x'],
    ['https://hooks.example.com:443/x'],
    ['http://[::1]:8080/x'],
  ])('%s is accepted', async (url) => {
    const created = await api.request('POST', `/v1/namespaces/${uniqueName()}/repositories/app/triggers`, {
      token: admin,
      body: triggerBody({ url }),
    });
    expect(created.status).toBe(201);
    expect(created.body.url).toBe(url);
  });

  it('the secret is never shown again; PUT with "***" keeps it, without it drops it', async () => {
    const ns = uniqueName();
    const base = `/v1/namespaces/${ns}/repositories/app/triggers`;
    const store = new TriggerStore(api.redis);
    const responses: string[] = [];
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await api.request(method, path, { token: admin, body });
      responses.push(response.text);
      return response;
    };

    const created = await call('POST', base, triggerBody({ secret: WHSEC }));
    expect(created.status).toBe(201);
    expect(created.body.secret).toBe('***');
    const id = created.body.id as string;
    expect((await call('GET', `${base}/${id}`)).body.secret).toBe('***');
    expect((await call('GET', base)).body.triggers[0].secret).toBe('***');
    expect((await store.get(ns, 'app', id))?.secret).toBe(WHSEC);

    const kept = await call('PUT', `${base}/${id}`, triggerBody({ name: 'renamed', secret: '***' }));
    expect(kept.status).toBe(200);
    expect(kept.body).toMatchObject({ name: 'renamed', secret: '***' });
    expect((await store.get(ns, 'app', id))?.secret).toBe(WHSEC);

    const plain = 'a-plain-secret-of-some-length';
    const changed = await call('PUT', `${base}/${id}`, triggerBody({ secret: plain }));
    expect(changed.body.secret).toBe('***');
    expect((await store.get(ns, 'app', id))?.secret).toBe(plain);

    const dropped = await call('PUT', `${base}/${id}`, triggerBody());
    expect(dropped.status).toBe(200);
    expect(dropped.body).not.toHaveProperty('secret');
    expect((await store.get(ns, 'app', id))?.secret).toBeUndefined();
    expect((await call('GET', `${base}/${id}`)).body).not.toHaveProperty('secret');

    // "***" on a trigger without a secret keeps it without one, rather than storing "***".
    const still = await call('PUT', `${base}/${id}`, triggerBody({ secret: '***' }));
    expect(still.body).not.toHaveProperty('secret');
    expect((await store.get(ns, 'app', id))?.secret).toBeUndefined();

    for (const text of responses) {
      expect(text).not.toContain(WHSEC);
      expect(text).not.toContain(plain);
    }
  });

  it('a trigger as read, edited and sent back is a valid PUT; its ids must stay its own', async () => {
    const ns = uniqueName();
    const base = `/v1/namespaces/${ns}/repositories/app/triggers`;
    const created = await api.request('POST', base, { token: admin, body: triggerBody({ secret: WHSEC }) });
    const read = await api.request('GET', `${base}/${created.body.id}`, { token: admin });
    expect(read.body).toMatchObject({ id: created.body.id, namespace: ns, repository: 'app', secret: '***' });

    const edited = { ...read.body, url: 'https://hooks.example.com/edited', createdAt: 1, updatedAt: 2 };
    const replaced = await api.request('PUT', `${base}/${read.body.id}`, { token: admin, body: edited });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({
      id: read.body.id,
      url: 'https://hooks.example.com/edited',
      createdAt: read.body.createdAt,
      secret: '***',
    });
    expect(replaced.body.updatedAt).toBeGreaterThanOrEqual(read.body.updatedAt);
    expect((await new TriggerStore(api.redis).get(ns, 'app', read.body.id))?.secret).toBe(WHSEC);

    for (const [field, value] of [
      ['id', 'another-id'],
      ['namespace', 'another'],
      ['repository', 'other'],
    ] as const) {
      const problem = expectProblemShape(
        await api.request('PUT', `${base}/${read.body.id}`, {
          token: admin,
          body: { ...edited, [field]: value },
        }),
        400,
      );
      expect(problem.errors).toEqual([{ path: field, message: expect.stringContaining('read-only') }]);
    }
    const unknown = expectProblemShape(
      await api.request('PUT', `${base}/${read.body.id}`, {
        token: admin,
        body: { ...edited, colour: 'red' },
      }),
      400,
    );
    expect(unknown.detail).toContain('unknown field colour');
    expect((await api.request('GET', `${base}/${read.body.id}`, { token: admin })).body.url).toBe(
      'https://hooks.example.com/edited',
    );
  });

  it(`a repository holds at most TRIGGERS_PER_REPOSITORY (${TRIGGER_CAP}) triggers: then 409`, async () => {
    const ns = uniqueName();
    const base = `/v1/namespaces/${ns}/repositories/app/triggers`;
    const ids: string[] = [];
    for (let i = 0; i < TRIGGER_CAP; i++)
      ids.push((await createTrigger(ns, 'app', triggerBody({ name: `t${i}` }))).id);
    const problem = expectProblemShape(
      await api.request('POST', base, { token: admin, body: triggerBody() }),
      409,
    );
    expect(problem.code).toBe('trigger-limit');
    expect(problem.detail).toContain(String(TRIGGER_CAP));
    expect((await api.request('GET', base, { token: admin })).body.triggers).toHaveLength(TRIGGER_CAP);
    // Another repository of the same namespace has its own room.
    await createTrigger(ns, 'other');
    // Room again after a delete.
    expect((await api.request('DELETE', `${base}/${ids[0]}`, { token: admin })).status).toBe(204);
    expect((await api.request('POST', base, { token: admin, body: triggerBody() })).status).toBe(201);
    // Concurrent creates never overshoot the cap.
    const racing = await Promise.all(
      Array.from({ length: 6 }, () =>
        api.request('POST', `/v1/namespaces/${ns}/repositories/race/triggers`, {
          token: admin,
          body: triggerBody(),
        }),
      ),
    );
    expect(racing.map((r) => r.status).sort()).toEqual([201, 201, 201, 409, 409, 409]);
  });
});

describe('test deliveries and redeliveries', () => {
  it('POST .../test queues a single-attempt delivery with tag "test"; 202 pending without a worker', async () => {
    const ns = uniqueName();
    const trigger = await createTrigger(ns, 'app');
    const deliveries = api.inspectQueue<DeliveryJob>(queueNames.deliveries);
    const response = await api.request(
      'POST',
      `/v1/namespaces/${ns}/repositories/app/triggers/${trigger.id}/test`,
      {
        token: admin,
      },
    );
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ deliveryId: expect.stringMatching(/^msg_/), status: 'pending' });
    const job = await deliveries.getJob(response.body.deliveryId);
    expect(job?.data).toMatchObject({
      deliveryId: response.body.deliveryId,
      namespace: ns,
      repository: 'app',
      triggerId: trigger.id,
      tag: 'test',
      digest: TEST_DIGEST,
      singleAttempt: true,
    });
    expect(job?.opts.attempts).toBe(1);
  });

  it('POST .../test answers 200 with the record once a worker finished it; redeliver is 202', async () => {
    const ns = uniqueName();
    const trigger = await createTrigger(ns, 'team%2Fapp');
    const other = await createTrigger(ns, 'team%2Fapp', triggerBody({ name: 'other' }));
    const base = `/v1/namespaces/${ns}/repositories/team%2Fapp/triggers`;
    // A stand-in for the worker app: it writes the access-log record and returns it, as the real one does.
    const connection = new Redis(redisServer().url, { maxRetriesPerRequest: null });
    const records = new RecordStore(api.redis);
    const worker = new Worker<DeliveryJob>(
      queueNames.deliveries,
      async (job) => {
        const record = {
          triggerId: job.data.triggerId,
          triggerName: 'redeploy',
          triggerUrl: 'https://hooks.example.com/x',
          triggerType: 'ALL' as const,
          triggerTag: '',
          eventId: job.data.eventId,
          deliveryId: job.data.deliveryId,
          namespace: job.data.namespace,
          repository: job.data.repository,
          tag: job.data.tag,
          digest: job.data.digest,
          status: 'succeeded' as const,
          statusCode: '200',
          attempt: 1,
          requestTime: Date.now(),
          durationMs: 3,
          requestHeaders: { 'content-type': 'application/json' },
          requestBody: '{"push_data":{}}',
          responseHeaders: {},
          responseBody: 'ok',
        };
        return { id: await records.append(record), ...record };
      },
      { connection, prefix: keys.queuePrefix(queueNames.deliveries, 0), autorun: true },
    );
    worker.on('error', () => {});
    try {
      await worker.waitUntilReady();
      const tested = await api.request('POST', `${base}/${trigger.id}/test`, { token: admin });
      expect(tested.status).toBe(200);
      expect(tested.body).toMatchObject({
        id: expect.stringMatching(/^\d+-\d+$/),
        triggerId: trigger.id,
        namespace: ns,
        repository: 'team/app',
        tag: 'test',
        digest: TEST_DIGEST,
        status: 'succeeded',
        statusCode: '200',
      });
      const record = tested.body as { id: string; eventId: string; deliveryId: string };
      expect(await records.get(ns, record.id)).toEqual(tested.body);

      await worker.pause();
      const deliveries = api.inspectQueue<DeliveryJob>(queueNames.deliveries);
      const redelivered = await api.request('POST', `${base}/${trigger.id}/records/${record.id}/redeliver`, {
        token: admin,
      });
      expect(redelivered.status).toBe(202);
      expect(redelivered.body).toEqual({
        deliveryId: expect.stringMatching(/^msg_/),
        eventId: record.eventId,
      });
      expect(redelivered.body.deliveryId).not.toBe(record.deliveryId);
      const job = await deliveries.getJob(redelivered.body.deliveryId);
      expect(job?.data).toMatchObject({
        eventId: record.eventId,
        triggerId: trigger.id,
        namespace: ns,
        repository: 'team/app',
        tag: 'test',
        body: '{"push_data":{}}',
      });
      expect(job?.data.singleAttempt).toBeUndefined();

      // A record of another trigger is a 409 naming its trigger (trigger-patch.test.ts); an
      // unknown record and a malformed id are 404.
      expect(
        expectProblemShape(
          await api.request('POST', `${base}/${other.id}/records/${record.id}/redeliver`, { token: admin }),
          409,
        ).code,
      ).toBe('record-of-another-trigger');
      for (const path of [
        `${base}/${trigger.id}/records/99999999-0/redeliver`,
        `${base}/${trigger.id}/records/not-an-id/redeliver`,
        `${base}/missing/records/${record.id}/redeliver`,
      ]) {
        expect(expectProblemShape(await api.request('POST', path, { token: admin }), 404).code).toBe(
          'not-found',
        );
      }
    } finally {
      await worker.close(true);
      connection.disconnect();
    }
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
