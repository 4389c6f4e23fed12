// Property: whatever a client sends (random JSON, text that is not JSON, near-valid bodies,
// odd content types, encodings, tokens, paths and methods), the api never answers 5xx, errors
// are problem+json, and the server stays up.
import { gzipSync } from 'node:zlib';
import { RecordStore } from '@registry-triggers/store';
import { uniqueName, useRedis } from '@registry-triggers/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, digestOf, expectProblemShape, startApi } from './support/api-harness.js';

const NUM_RUNS = 100;
const MAX_BODY_BYTES = 64 * 1024;

const redisServer = useRedis();
let api: ApiHarness;
let ns: string;
let nsToken: string;
let otherToken: string;
let triggerId: string;
let recordId: string;

beforeAll(async () => {
  api = await startApi(redisServer(), {
    // Random trigger bodies that happen to be valid must not fill the repository and hide 201s.
    triggersPerRepository: 10_000,
    maxBodyBytes: MAX_BODY_BYTES,
    // `POST .../test` waits for a worker that is not there; keep each such request short.
    testDeliveryWaitMs: 50,
  });
  ns = uniqueName();
  nsToken = await api.issueToken(ns);
  otherToken = await api.issueToken(uniqueName());
  const trigger = await api.request('POST', `/v1/namespaces/${ns}/repositories/team%2Fapp/triggers`, {
    token: nsToken,
    body: { name: 'fuzz', url: 'https://hooks.example.com/x', type: 'ALL', secret: 'fuzz-secret-1' },
  });
  triggerId = trigger.body.id;
  recordId = await new RecordStore(api.redis).append({
    triggerId,
    triggerName: 'fuzz',
    triggerUrl: 'https://hooks.example.com/x',
    triggerType: 'ALL',
    triggerTag: '',
    eventId: 'fuzz-1',
    deliveryId: 'msg_fuzz',
    namespace: ns,
    repository: 'team/app',
    tag: 'v1',
    digest: digestOf(1),
    status: 'failed',
    statusCode: 'ECONNREFUSED',
    attempt: 1,
    requestTime: Date.now(),
    durationMs: 1,
    requestHeaders: {},
    requestBody: '{}',
    responseHeaders: {},
    responseBody: '',
  });
});
afterAll(async () => {
  await api?.close();
});

// ---- arbitraries ----------------------------------------------------------------------

const visibleAscii = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
});

// Built once, after beforeAll has created the objects they refer to: building arbitraries
// (stringMatching above all) costs far more than drawing values from them.
let segments: Record<string, fc.Arbitrary<string>> | undefined;
function segmentArbitraries(): Record<string, fc.Arbitrary<string>> {
  segments ??= {
    '{ns}': fc.oneof(
      fc.constant(ns),
      fc.constant('other'),
      fc.stringMatching(/^[a-z0-9]{1,8}$/),
      fc.string({ unit: 'binary', maxLength: 12 }).map(encodeURIComponent),
      fc.constantFrom('%', '%zz', '%E0%A4%A', '..', '.', '%2F', 'A', 'a%00b', 'a'.repeat(300)),
    ),
    '{repo}': fc.oneof(
      fc.constantFrom('team%2Fapp', 'app', 'team%2F%2Fapp', '%2F', 'team%252Fapp', 'a%2F..%2Fb'),
      fc.stringMatching(/^[a-z0-9]{1,8}(%2F[a-z0-9]{1,8}){0,2}$/),
      fc.string({ unit: 'binary', maxLength: 12 }).map(encodeURIComponent),
    ),
    '{id}': fc.oneof(
      fc.constant(triggerId),
      fc.uuid(),
      fc.string({ maxLength: 120 }).map(encodeURIComponent),
      fc.constantFrom('%', '', '0'),
    ),
    '{recordId}': fc.oneof(
      fc.constant(recordId),
      fc.constantFrom('0-0', '1-1', '99999999999999999999-9', 'x', '%'),
      fc.string().map(encodeURIComponent),
    ),
  };
  return segments;
}

const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom(
    '?limit=1',
    '?limit=0',
    '?limit=-1',
    '?limit=1e3',
    '?limit=2&limit=3',
    '?cursor=%FF',
    '?cursor[a]=1',
  ),
  visibleAscii.map((q) => `?${encodeURI(q)}`),
);

/** A path built from one of the api's templates with random parameters. */
function pathFor(template: string): fc.Arbitrary<string> {
  const parts = template
    .split(/(\{\w+\})/)
    .map((part): fc.Arbitrary<string> => segmentArbitraries()[part] ?? fc.constant(part));
  return fc.tuple(fc.tuple(...parts), query).map(([values, q]) => values.join('') + q);
}

const templates: Record<string, object> = {
  trigger: {
    name: 'x',
    url: 'https://hooks.example.com/x',
    type: 'TAG_LIST',
    tags: ['v1'],
    secret: 'abcdefgh',
  },
  repository: { repoType: 'PUBLIC', authenticationType: 'NO_CERTIFIED' },
  event: { namespace: 'fz', repository: 'app', tag: 'v1', digest: digestOf(1), eventId: 'e1' },
  envelope: {
    events: [{ id: 'e', action: 'push', target: { repository: 'fz/app', tag: 'v1', digest: digestOf(1) } }],
  },
  harbor: {
    type: 'PUSH_ARTIFACT',
    occur_at: 1680501893,
    event_data: {
      resources: [{ digest: digestOf(1), tag: 'v1' }],
      repository: { name: 'app', namespace: 'fz', repo_full_name: 'fz/app' },
    },
  },
  azure: { id: 'a', action: 'push', target: { repository: 'fz/app', tag: 'v1', digest: digestOf(1) } },
  ecr: {
    id: 'e',
    'detail-type': 'ECR Image Action',
    source: 'aws.ecr',
    detail: { 'action-type': 'PUSH', result: 'SUCCESS', 'repository-name': 'fz/app', 'image-tag': 'v1' },
  },
  pubsub: {
    message: {
      messageId: 'm',
      data: Buffer.from(JSON.stringify({ action: 'INSERT', tag: 'h/fz/app:v1' })).toString('base64'),
    },
  },
  cloudevent: {
    specversion: '1.0',
    id: 'c',
    source: '/x',
    type: 'zotregistry.image.updated',
    data: { name: 'fz/app', reference: 'v1' },
    data_base64: 'e30=',
  },
};
const fieldNames = [
  'name',
  'url',
  'type',
  'tags',
  'expression',
  'enabled',
  'secret',
  'headers',
  'repoType',
  'authenticationType',
  'originType',
  'namespace',
  'repository',
  'tag',
  'digest',
  'pushedAt',
  'eventId',
  'events',
  'action',
  'target',
  'type',
  'event_data',
  'resources',
  'detail',
  'message',
  'data',
  'data_base64',
  'specversion',
  'updated_tags',
  'push_data',
  '__proto__',
  'constructor',
  'toString',
];

/** A valid-looking body with some fields replaced by random JSON, or removed. */
const nearlyValid = fc
  .tuple(
    fc.constantFrom(...Object.values(templates)),
    fc.dictionary(fc.oneof(fc.constantFrom(...fieldNames), fc.string()), fc.jsonValue({ maxDepth: 2 }), {
      maxKeys: 3,
    }),
    fc.subarray(fieldNames),
    fc.boolean(),
  )
  .map(([template, replace, drop, asArray]) => {
    const body: Record<string, unknown> = { ...template };
    for (const key of drop) delete body[key];
    for (const [key, value] of Object.entries(replace))
      Object.defineProperty(body, key, { value, enumerable: true });
    return JSON.stringify(asArray ? [body, template] : body);
  });

const body = fc.oneof(
  { weight: 3, arbitrary: nearlyValid },
  { weight: 2, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '{',
      '[]',
      '[[]]',
      'null',
      '"x"',
      '1e999',
      '\uFEFF{}',
      '{"a":1,"a":2}',
      '{"__proto__":{"polluted":true}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
      `${'['.repeat(5000)}${']'.repeat(5000)}`,
      JSON.stringify({ events: Array.from({ length: 50 }, () => ({})) }),
    ),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
);

const contentType = fc.oneof(
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=latin1',
    'application/json; charset=utf-16',
    'application/json; charset=nope',
    'application/json;',
    'APPLICATION/JSON',
    'application/vnd.docker.distribution.events.v1+json',
    'application/vnd.docker.distribution.events.v2+json',
    'application/cloudevents+json',
    'application/cloudevents-batch+json',
    'application/problem+json',
    'application/*',
    'text/plain',
    'text/json',
    'multipart/form-data; boundary=x',
    'application/x-www-form-urlencoded',
    '',
  ),
  visibleAscii,
);

const token = fc.oneof(
  fc.constant<string | undefined>(undefined),
  fc.constant(undefined).map(() => api.adminToken),
  fc.constant(undefined).map(() => api.ingestToken),
  fc.constant(undefined).map(() => nsToken),
  fc.constant(undefined).map(() => otherToken),
  visibleAscii.filter((t) => t.trim() === t && t.length > 0),
  fc.string().map((s) => `rtn.${Buffer.from(s).toString('base64url')}.${s.length}`),
);

const extraHeaders = fc.record(
  {
    'content-encoding': fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'compress', 'gzip, gzip', 'x'),
    accept: fc.oneof(fc.constantFrom('application/json', 'text/html', '*/*', ''), visibleAscii),
    'x-request-id': visibleAscii,
    'accept-encoding': fc.constantFrom('gzip', 'br', 'identity;q=0', '*'),
    'if-none-match': visibleAscii,
    authorization: fc.oneof(fc.constantFrom('Bearer', 'Basic abc', 'bearer  ', 'Bearer a b c'), visibleAscii),
  },
  { requiredKeys: [] },
);

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];

interface Route {
  method: string;
  template: string;
}

function requestFor(routes: Route[]) {
  return fc.record({
    target: fc.oneof(
      ...routes.map((route) => fc.record({ route: fc.constant(route), path: pathFor(route.template) })),
    ),
    otherMethod: fc.option(fc.constantFrom(...METHODS), { freq: 5 }),
    token,
    body: fc.option(body, { freq: 8 }),
    contentType: fc.option(contentType, { freq: 6 }),
    headers: extraHeaders,
  });
}

async function checkNever5xx(routes: Route[], numRuns = NUM_RUNS) {
  await fc.assert(
    fc.asyncProperty(requestFor(routes), async (input) => {
      const { route, path } = input.target;
      const method = input.otherMethod ?? route.method;
      const sendsBody = input.body !== null && method !== 'GET' && method !== 'HEAD';
      const headers: Record<string, string> = { ...input.headers };
      if (input.token !== undefined) headers.authorization = `Bearer ${input.token}`;
      if (input.contentType !== null) headers['content-type'] = input.contentType;
      const response = await api.request(method, path, {
        headers,
        contentType: null,
        ...(sendsBody ? { body: input.body } : {}),
      });
      if (response.status >= 500) throw new Error(`${method} ${path} → ${response.status}: ${response.text}`);
      if (response.status >= 400 && method !== 'HEAD') expectProblemShape(response, response.status);
      // The secret of the existing trigger never comes back, whatever was asked.
      expect(response.text).not.toContain('fuzz-secret-1');
    }),
    { numRuns },
  );
}

// ---- properties -----------------------------------------------------------------------

const repo = '/v1/namespaces/{ns}/repositories/{repo}';
const trigger = `${repo}/triggers/{id}`;

describe('random and malformed requests never get a 5xx', () => {
  it('event routes', async () => {
    await checkNever5xx([
      { method: 'POST', template: '/v1/events/push' },
      { method: 'POST', template: '/v1/events/distribution' },
    ]);
  });

  it('registry routes', async () => {
    await checkNever5xx(
      ['harbor', 'dockerhub', 'quay', 'azure', 'ecr', 'gar', 'cloudevents'].map((source) => ({
        method: 'POST',
        template: `/v1/events/${source}`,
      })),
    );
  });

  it('token routes', async () => {
    await checkNever5xx([{ method: 'POST', template: '/v1/namespaces/{ns}/tokens' }]);
  });

  it('repository routes', async () => {
    await checkNever5xx([
      { method: 'PUT', template: repo },
      { method: 'GET', template: repo },
      { method: 'GET', template: '/v1/namespaces/{ns}/repositories' },
    ]);
  });

  it('trigger routes', async () => {
    await checkNever5xx([
      { method: 'POST', template: `${repo}/triggers` },
      { method: 'GET', template: `${repo}/triggers` },
      { method: 'GET', template: trigger },
      { method: 'PUT', template: trigger },
      { method: 'DELETE', template: trigger },
    ]);
  });

  it('test and redeliver routes', async () => {
    await checkNever5xx([
      { method: 'POST', template: `${trigger}/test` },
      { method: 'POST', template: `${trigger}/records/{recordId}/redeliver` },
    ]);
  });

  it('public routes and paths that match nothing', async () => {
    await checkNever5xx([
      { method: 'GET', template: '/healthz' },
      { method: 'GET', template: '/readyz' },
      { method: 'GET', template: '/metrics' },
      { method: 'GET', template: '/openapi.json' },
      { method: 'GET', template: '/v1/namespaces/{ns}' },
      { method: 'POST', template: '/v1/{ns}/{repo}' },
      { method: 'GET', template: '/{id}' },
    ]);
  });
});

describe('hostile bodies', () => {
  const push = (body: string | Uint8Array, headers: Record<string, string> = {}) =>
    api.request('POST', '/v1/events/push', { token: api.ingestToken, body, headers });

  it('a gzip body is read; a gzip bomb is 413; a broken gzip stream is 400', async () => {
    const event = { namespace: ns, repository: 'app', tag: 'v1', digest: digestOf(9) };
    const ok = await push(gzipSync(JSON.stringify(event)), { 'content-encoding': 'gzip' });
    expect(ok.status).toBe(202);
    const bomb = gzipSync(JSON.stringify({ pad: ' '.repeat(50 * MAX_BODY_BYTES) }));
    expect(bomb.length).toBeLessThan(MAX_BODY_BYTES);
    expectProblemShape(await push(bomb, { 'content-encoding': 'gzip' }), 413);
    expectProblemShape(await push(bomb.subarray(0, 40), { 'content-encoding': 'gzip' }), 400);
    expectProblemShape(await push('{}', { 'content-encoding': 'compress' }), 415);
  });

  it('invalid UTF-8, prototype keys and deep nesting are 400 and pollute nothing', async () => {
    expectProblemShape(await push(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])), 400);
    expectProblemShape(
      await push('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":1}}}'),
      400,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expectProblemShape(await push(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), 413);
    expectProblemShape(await push(`${'['.repeat(20_000)}${']'.repeat(20_000)}`), 400);
  });

  it('the server is still up and ready after all of it', async () => {
    expect((await api.request('GET', '/healthz')).status).toBe(200);
    expect((await api.request('GET', '/readyz')).status).toBe(200);
    const triggerNow = await api.request(
      'GET',
      `/v1/namespaces/${ns}/repositories/team%2Fapp/triggers/${triggerId}`,
      {
        token: nsToken,
      },
    );
    expect([200, 404]).toContain(triggerNow.status);
  });
});
