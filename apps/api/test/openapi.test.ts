// The OpenAPI document against the running api: structurally valid OpenAPI 3.1, every
// route of the contract (the api's and the logs app's) with its method, one entry for every
// route the api's express app serves (and no more), and every api operation answering a
// representative request with a documented status, media type and body shape. The logs
// app's routes are held against the logs app in apps/logs/test/openapi.test.ts.
import { type OpenApiDocument, openApiDocument, routeKey } from '@registry-triggers/http-kit';
import { CaBundleStore, DeliveryStates, RecordStore } from '@registry-triggers/store';
import {
  createPrivateCa,
  resolveRef,
  type Schema,
  uniqueName,
  unknownKeywords,
  useRedis,
  validate,
} from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRouteTable } from '../src/app.js';
import { type ApiHarness, type ApiResponse, digestOf, startApi } from './support/api-harness.js';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const PATH_ITEM_KEYS = new Set<string>([
  ...HTTP_METHODS,
  'parameters',
  'summary',
  'description',
  'servers',
  '$ref',
]);

// biome-ignore lint/suspicious/noExplicitAny: the document is walked generically, as JSON
type Json = any;

interface Operation {
  method: string;
  path: string;
  key: string;
  operation: Json;
  parameters: Json[];
}

const doc = openApiDocument() as Json as OpenApiDocument & Json;

function operations(document: Json): Operation[] {
  const found: Operation[] = [];
  for (const [path, item] of Object.entries<Json>(document.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (!operation) continue;
      found.push({
        method: method.toUpperCase(),
        path,
        key: `${method.toUpperCase()} ${path}`,
        operation,
        parameters: [...(item.parameters ?? []), ...(operation.parameters ?? [])],
      });
    }
  }
  return found;
}

/** Which app serves an operation: the servers of its path item, else the document's. */
function servedBy(op: Operation, app: 'api' | 'logs'): boolean {
  const servers: Json[] = doc.paths[op.path].servers ?? doc.servers;
  return servers.some((server) => String(server.description).startsWith(`${app} app`));
}

const apiOperations = () => operations(doc).filter((op) => servedBy(op, 'api'));

/** Every route of the contract (docs/contract.md) and the app that serves it. */
const CONTRACT_ROUTES: Record<string, Array<'api' | 'logs'>> = {
  'GET /healthz': ['api', 'logs'],
  'GET /readyz': ['api', 'logs'],
  'GET /metrics': ['api', 'logs'],
  'GET /openapi.json': ['api', 'logs'],
  'POST /v1/namespaces/{ns}/tokens': ['api'],
  'GET /v1/namespaces/{ns}/tokens': ['api'],
  'DELETE /v1/namespaces/{ns}/tokens/{tokenId}': ['api'],
  'POST /v1/namespaces/{ns}/tokens/{tokenId}/rotate': ['api'],
  'GET /v1/namespaces': ['api'],
  'PUT /v1/namespaces/{ns}/ca-bundle': ['api'],
  'GET /v1/namespaces/{ns}/ca-bundle': ['api'],
  'DELETE /v1/namespaces/{ns}/ca-bundle': ['api'],
  'DELETE /v1/namespaces/{ns}/repositories/{repo}': ['api'],
  'PUT /v1/namespaces/{ns}/repositories/{repo}': ['api'],
  'GET /v1/namespaces/{ns}/repositories/{repo}': ['api'],
  'GET /v1/namespaces/{ns}/repositories': ['api'],
  'POST /v1/namespaces/{ns}/repositories/{repo}/triggers': ['api'],
  'GET /v1/namespaces/{ns}/repositories/{repo}/triggers': ['api'],
  'GET /v1/namespaces/{ns}/repositories/{repo}/triggers/{id}': ['api'],
  'PUT /v1/namespaces/{ns}/repositories/{repo}/triggers/{id}': ['api'],
  'PATCH /v1/namespaces/{ns}/repositories/{repo}/triggers/{id}': ['api'],
  'DELETE /v1/namespaces/{ns}/repositories/{repo}/triggers/{id}': ['api'],
  'POST /v1/namespaces/{ns}/repositories/{repo}/triggers/{id}/test': ['api'],
  'POST /v1/namespaces/{ns}/repositories/{repo}/triggers/{id}/records/{recordId}/redeliver': ['api'],
  'POST /v1/namespaces/{ns}/repositories/{repo}/triggers/{id}/records/{recordId}/cancel': ['api'],
  'POST /v1/events/push': ['api'],
  'POST /v1/events/distribution': ['api'],
  'POST /v1/events/harbor': ['api'],
  'POST /v1/events/dockerhub': ['api'],
  'POST /v1/events/quay': ['api'],
  'POST /v1/events/azure': ['api'],
  'POST /v1/events/ecr': ['api'],
  'POST /v1/events/gar': ['api'],
  'POST /v1/events/cloudevents': ['api'],
  'GET /v1/namespaces/{ns}/repositories/{repo}/triggers/{id}/records': ['logs'],
  'GET /v1/namespaces/{ns}/repositories/{repo}/records': ['logs'],
  'GET /v1/namespaces/{ns}/records/{recordId}': ['logs'],
  'GET /v1/namespaces/{ns}/records/stream': ['logs'],
  'GET /': ['logs'],
};

/** Every $ref in the document, with where it is. */
function refs(node: Json, at = '#'): Array<[string, string]> {
  if (node === null || typeof node !== 'object') return [];
  const found: Array<[string, string]> = [];
  for (const [key, value] of Object.entries<Json>(node)) {
    if (key === '$ref' && typeof value === 'string') found.push([at, value]);
    else found.push(...refs(value, `${at}/${key}`));
  }
  return found;
}

function documentedResponse(op: Operation, status: number): Json | undefined {
  const response = op.operation.responses[String(status)];
  return response?.$ref ? resolveRef(doc, response.$ref) : response;
}

function expectDocumented(op: Operation, response: ApiResponse) {
  const documented = documentedResponse(op, response.status);
  const codes = Object.keys(op.operation.responses).join(', ');
  expect(
    documented,
    `${op.key} answered ${response.status} (documented: ${codes}): ${response.text}`,
  ).toBeDefined();
  const contentType = response.headers.get('content-type')?.split(';')[0]?.trim();
  if (!documented.content) {
    expect(response.text, `${op.key} ${response.status} documents no body`).toBe('');
    return;
  }
  const media = documented.content[contentType ?? ''];
  expect(media, `${op.key} ${response.status}: ${contentType} is not documented`).toBeDefined();
  if (response.body !== undefined) {
    expect(validate(response.body, media.schema as Schema, doc), `${op.key} ${response.status} body`).toEqual(
      [],
    );
  }
}

describe('the OpenAPI document (structure)', () => {
  it('is OpenAPI 3.1 with info, paths, components and the bearer scheme', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(typeof doc.info.title).toBe('string');
    expect(typeof doc.info.version).toBe('string');
    expect(doc.components.securitySchemes.bearer).toEqual(
      expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    );
    expect(doc.security).toEqual([{ bearer: [] }]);
    // What /openapi.json serves is this document.
    expect(JSON.parse(JSON.stringify(openApiDocument()))).toEqual(doc);
  });

  it('has well-formed path items, operations and responses', () => {
    const ids = new Set<string>();
    for (const [path, item] of Object.entries<Json>(doc.paths)) {
      expect(path).toMatch(/^\/[\w./{}-]*$/);
      for (const key of Object.keys(item)) expect(PATH_ITEM_KEYS, `${path}: ${key}`).toContain(key);
    }
    for (const op of operations(doc)) {
      const { operation } = op;
      expect(typeof operation.operationId, op.key).toBe('string');
      expect(ids.has(operation.operationId), `duplicate operationId ${operation.operationId}`).toBe(false);
      ids.add(operation.operationId);
      expect(Object.keys(operation.responses).length, op.key).toBeGreaterThan(0);
      for (const [status, response] of Object.entries<Json>(operation.responses)) {
        expect(status, op.key).toMatch(/^([1-5]\d\d|[1-5]XX|default)$/);
        const resolved = response.$ref ? resolveRef(doc, response.$ref) : response;
        expect(typeof resolved.description, `${op.key} ${status}`).toBe('string');
        for (const [media, content] of Object.entries<Json>(resolved.content ?? {})) {
          expect(media, op.key).toMatch(/^[\w.+-]+\/[\w.+-]+$/);
          expect(content.schema, `${op.key} ${status} ${media}`).toBeDefined();
        }
      }
      if (operation.requestBody) {
        expect(Object.keys(operation.requestBody.content).length, op.key).toBeGreaterThan(0);
        for (const content of Object.values<Json>(operation.requestBody.content))
          expect(content.schema).toBeDefined();
      }
      for (const requirement of operation.security ?? doc.security) {
        for (const scheme of Object.keys(requirement))
          expect(doc.components.securitySchemes).toHaveProperty(scheme);
      }
    }
  });

  it('declares every path template parameter as a required path parameter, and no others', () => {
    for (const op of operations(doc)) {
      const templated = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      const declared = op.parameters
        .map((p) => (p.$ref ? resolveRef(doc, p.$ref) : p))
        .filter((p: Json) => p.in === 'path');
      expect(declared.map((p: Json) => p.name).sort(), op.key).toEqual(templated);
      for (const parameter of declared) {
        expect(parameter.required, `${op.key} ${parameter.name}`).toBe(true);
        expect(parameter.schema, `${op.key} ${parameter.name}`).toBeDefined();
      }
      for (const parameter of op.parameters)
        expect(['path', 'query', 'header', 'cookie']).toContain(parameter.in);
    }
    const repo = doc.paths['/v1/namespaces/{ns}/repositories/{repo}'].parameters.find(
      (p: Json) => p.name === 'repo',
    );
    expect(repo.description).toContain('%2F');
  });

  it('resolves every $ref, and its schemas use only keywords the tests check', () => {
    for (const [at, ref] of refs(doc)) expect(() => resolveRef(doc, ref), at).not.toThrow();
    for (const [name, schema] of Object.entries<Json>(doc.components.schemas)) {
      expect(unknownKeywords(schema), name).toEqual([]);
      expect(schema, name).not.toHaveProperty('$schema');
      expect(schema, name).not.toHaveProperty('$id');
    }
  });

  it('documents the status codes of the contract', () => {
    const statuses = (key: string) => {
      const op = operations(doc).find((o) => o.key === key);
      if (!op) throw new Error(`${key} is not documented`);
      return Object.keys(op.operation.responses).map(Number).sort();
    };
    expect(statuses('GET /healthz')).toEqual([200]);
    expect(statuses('GET /readyz')).toEqual([200, 503]);
    expect(statuses('POST /v1/namespaces/{ns}/tokens')).toEqual([201, 400, 401, 403, 404, 413, 415, 503]);
    expect(statuses('PUT /v1/namespaces/{ns}/repositories/{repo}')).toEqual([
      200, 201, 400, 401, 403, 404, 409, 413, 415, 503,
    ]);
    expect(statuses('POST /v1/namespaces/{ns}/repositories/{repo}/triggers')).toEqual([
      201, 400, 401, 403, 404, 409, 413, 415, 503,
    ]);
    expect(statuses('DELETE /v1/namespaces/{ns}/repositories/{repo}/triggers/{id}')).toContain(204);
    expect(statuses('POST /v1/namespaces/{ns}/repositories/{repo}/triggers/{id}/test')).toEqual([
      200, 202, 400, 401, 403, 404, 429, 503,
    ]);
    const tooMany = resolveRef(doc, '#/components/responses/TooManyRequests') as Json;
    expect(tooMany.headers).toHaveProperty('Retry-After');
    expect(statuses('POST /v1/events/push')).toEqual([202, 400, 401, 403, 413, 415, 503]);
    expect(statuses('POST /v1/events/distribution')).toEqual([202, 400, 401, 403, 413, 415, 503]);
    for (const source of ['harbor', 'dockerhub', 'quay', 'ecr', 'gar', 'cloudevents'])
      expect(statuses(`POST /v1/events/${source}`)).toEqual([202, 400, 401, 403, 413, 415, 503]);
    expect(statuses('POST /v1/events/azure')).toEqual([200, 202, 400, 401, 403, 413, 415, 503]);
    const unavailable = resolveRef(doc, '#/components/responses/ServiceUnavailable') as Json;
    expect(unavailable.headers).toHaveProperty('Retry-After');
  });

  it('generates request bodies from the zod schemas the routes parse with', () => {
    const body = (key: string) => {
      const op = operations(doc).find((o) => o.key === key)!;
      return op.operation.requestBody.content;
    };
    expect(Object.keys(body('POST /v1/events/distribution')).sort()).toEqual([
      'application/json',
      'application/vnd.docker.distribution.events.v1+json',
      'application/vnd.docker.distribution.events.v2+json',
    ]);
    const trigger = doc.components.schemas.TriggerInput;
    expect([...trigger.required].sort()).toEqual(['name', 'type', 'url']);
    expect(trigger.additionalProperties).toBe(false);
    expect(trigger.properties.type.enum).toEqual(['ALL', 'TAG_LIST', 'TAG_REG_EXP']);
    expect(trigger.properties.tags.maxItems).toBe(10);
    expect(trigger.properties.url.description).toMatch(/443/);
    const pushEvents = doc.components.schemas.PushEvents;
    expect(pushEvents.anyOf).toContainEqual(expect.objectContaining({ type: 'array', maxItems: 1000 }));
    // Valid and invalid bodies are told apart by the document as by the api.
    const good = { namespace: 'ns', repository: 'team/app', tag: 'v1', digest: digestOf(1) };
    expect(validate(good, pushEvents, doc)).toEqual([]);
    expect(validate([good, good], pushEvents, doc)).toEqual([]);
    expect(validate({ ...good, tag: '-x' }, pushEvents, doc)).not.toEqual([]);
    expect(validate({ ...good, extra: 1 }, pushEvents, doc)).not.toEqual([]);
    expect(validate({ name: 'x', url: 'https://h.example.com', type: 'ALL' }, trigger, doc)).toEqual([]);
    expect(validate({ name: 'x', url: 'https://h.example.com', type: 'SOME' }, trigger, doc)).not.toEqual([]);
  });

  it('holds every route of the contract, api and logs app, with its method and the app that serves it', () => {
    const documented = new Map(operations(doc).map((op) => [op.key, op]));
    for (const [key, apps] of Object.entries(CONTRACT_ROUTES)) {
      const op = documented.get(key);
      expect(op, `${key} is not documented`).toBeDefined();
      for (const app of ['api', 'logs'] as const)
        expect(servedBy(op!, app), `${key} served by the ${app} app`).toBe(apps.includes(app));
    }
    // Routes beyond the contract (the namespace-wide record list, the page's own files) are the logs app's.
    for (const op of operations(doc)) {
      if (!(op.key in CONTRACT_ROUTES)) expect(servedBy(op, 'logs'), op.key).toBe(true);
    }
    // A path item of one app names its server, and its operations say so.
    for (const op of operations(doc).filter((o) => servedBy(o, 'logs') && !servedBy(o, 'api'))) {
      expect(doc.paths[op.path].servers, op.key).toEqual([
        {
          url: '{scheme}://{host}:{port}',
          description: expect.stringContaining('LOGS_PORT'),
          variables: expect.objectContaining({ port: { default: '8081' } }),
        },
      ]);
      expect(op.operation.description, op.key).toMatch(/logs app/);
    }
    expect(doc.servers).toEqual([
      {
        url: '{scheme}://{host}:{port}',
        description: expect.stringContaining('API_PORT'),
        variables: expect.objectContaining({ port: { default: '8080' } }),
      },
    ]);
  });

  it("documents the logs app's record routes: the record, the page, the query, the errors and the stream", () => {
    const find = (key: string) => {
      const op = operations(doc).find((o) => o.key === key);
      if (!op) throw new Error(`${key} is not documented`);
      return op;
    };
    const statuses = (op: Operation) => Object.keys(op.operation.responses).map(Number).sort();
    const lists = [
      'GET /v1/namespaces/{ns}/repositories/{repo}/triggers/{id}/records',
      'GET /v1/namespaces/{ns}/repositories/{repo}/records',
      'GET /v1/namespaces/{ns}/records',
    ].map(find);
    for (const op of lists) {
      expect(statuses(op), op.key).toEqual([200, 400, 401, 403, 404, 503]);
      expect(op.operation.responses['200'].content['application/json'].schema).toEqual({
        $ref: '#/components/schemas/RecordPage',
      });
      const query = Object.fromEntries(op.parameters.filter((p) => p.in === 'query').map((p) => [p.name, p]));
      expect(Object.keys(query).sort(), op.key).toEqual([
        'cursor',
        'limit',
        'reason',
        'since',
        'status',
        'tag',
        'until',
      ]);
      expect(Object.values(query).every((p: Json) => p.required === false)).toBe(true);
      expect(query.limit.schema).toEqual(
        expect.objectContaining({ type: 'integer', minimum: 1, maximum: 200, default: 50 }),
      );
      expect(query.status.schema.enum).toEqual([
        'untriggered',
        'succeeded',
        'retrying',
        'failed',
        'superseded',
      ]);
      expect(query.reason.schema.enum).toContain('same-digest');
      expect(query.reason.schema.enum).toEqual(
        expect.arrayContaining(['superseded', 'rate-limited', 'ordered', 'cancelled']),
      );
      expect(validate('2026-11-27T03:28:00Z', query.since.schema, doc)).toEqual([]);
      expect(validate(1_732_665_000_000, query.until.schema, doc)).toEqual([]);
    }
    const one = find('GET /v1/namespaces/{ns}/records/{recordId}');
    expect(statuses(one)).toEqual([200, 400, 401, 403, 404, 503]);
    expect(one.operation.responses['200'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/AccessRecord',
    });
    const stream = find('GET /v1/namespaces/{ns}/records/stream');
    // 429: the namespace's streams are at LOGS_MAX_STREAMS_PER_NAMESPACE; 503: the process's at LOGS_MAX_STREAMS.
    expect(statuses(stream)).toEqual([200, 400, 401, 403, 404, 429, 503]);
    const tooMany = resolveRef(doc, stream.operation.responses['429'].$ref) as Json;
    expect(tooMany.headers).toHaveProperty('Retry-After');
    expect(Object.keys(stream.operation.responses['200'].content)).toEqual(['text/event-stream']);
    expect(stream.parameters).toContainEqual(
      expect.objectContaining({ name: 'Last-Event-ID', in: 'header' }),
    );
    expect(stream.operation.description).toMatch(/Last-Event-ID/);
    const page = find('GET /');
    expect(page.operation.security).toEqual([]);
    expect(Object.keys(page.operation.responses['200'].content)).toEqual(['text/html']);
    for (const op of [...lists, one, stream]) {
      for (const status of [400, 401, 403, 404, 503]) {
        const response = resolveRef(doc, op.operation.responses[String(status)].$ref) as Json;
        expect(Object.keys(response.content), `${op.key} ${status}`).toEqual(['application/problem+json']);
      }
      const unavailable = resolveRef(doc, op.operation.responses['503'].$ref) as Json;
      expect(unavailable.headers, op.key).toHaveProperty('Retry-After');
    }

    // The record carries every field of the contract's access log.
    const record = doc.components.schemas.AccessRecord;
    const fields = [
      'id',
      'triggerId',
      'triggerName',
      'triggerUrl',
      'triggerType',
      'triggerTag',
      'eventId',
      'deliveryId',
      'namespace',
      'repository',
      'tag',
      'digest',
      'status',
      'statusCode',
      'attempt',
      'requestTime',
      'durationMs',
      'requestHeaders',
      'requestBody',
      'responseHeaders',
      'responseBody',
    ];
    expect([...record.required].sort()).toEqual([...fields].sort());
    expect(Object.keys(record.properties).sort()).toEqual(
      [...fields, 'note', 'reason', 'supersededBy', 'requestId', 'nextAttemptAt'].sort(),
    );
    expect(record.properties.reason.enum).toEqual(expect.arrayContaining(['filter', 'artifact-tag']));
    expect(record.properties.status.enum).toEqual([
      'untriggered',
      'succeeded',
      'retrying',
      'failed',
      'superseded',
    ]);
    expect(record.properties.requestTime.type).toBe('integer');
    expect(record.properties.attempt.type).toBe('integer');
    expect(record.properties.statusCode.type).toBe('string');
    expect(record.properties.responseBody.description).toMatch(/4096 bytes/);
    expect(doc.components.schemas.RecordPage.required).toEqual(['records', 'nextCursor']);
  });
});

describe('the OpenAPI document against the running api', () => {
  const redisServer = useRedis();
  let api: ApiHarness;
  let ns: string;
  let token: string;
  let triggerId: string;
  let recordId: string;
  let retryingId: string;
  let deletableId: string;
  let revocableId: string;
  let rotatableId: string;
  let caPem: string;

  beforeAll(async () => {
    caPem = (await createPrivateCa()).cert;
    api = await startApi(redisServer(), { testDeliveryWaitMs: 200, maxBodyBytes: 64 * 1024 });
    ns = uniqueName();
    token = await api.issueToken(ns);
    // Set before the representative requests, whatever order the PUT, GET and DELETE run in.
    await new CaBundleStore(api.redis).put(ns, caPem);
    const repo = `/v1/namespaces/${ns}/repositories/team%2Fapp`;
    await api.request('PUT', repo, { token, body: { repoType: 'PUBLIC' } });
    const created = await api.request('POST', `${repo}/triggers`, {
      token,
      body: { name: 'doc', url: 'https://hooks.example.com/x', type: 'ALL', secret: 'a-secret-value' },
    });
    triggerId = created.body.id;
    const deletable = await api.request('POST', `${repo}/triggers`, {
      token,
      body: { name: 'gone', url: 'https://hooks.example.com/y', type: 'ALL' },
    });
    deletableId = deletable.body.id;
    for (const name of ['revocable', 'rotatable']) {
      const issued = await api.request('POST', `/v1/namespaces/${ns}/tokens`, { token, body: { name } });
      if (name === 'revocable') revocableId = issued.body.id;
      else rotatableId = issued.body.id;
    }
    await api.request('PUT', `/v1/namespaces/${ns}/repositories/deletable`, {
      token,
      body: { repoType: 'PUBLIC' },
    });
    recordId = await new RecordStore(api.redis).append({
      triggerId,
      triggerName: 'doc',
      triggerUrl: 'https://hooks.example.com/x',
      triggerType: 'ALL',
      triggerTag: '',
      eventId: 'evt-doc',
      deliveryId: 'msg_doc',
      namespace: ns,
      repository: 'team/app',
      tag: 'v1',
      digest: digestOf(1),
      status: 'failed',
      statusCode: '500',
      attempt: 1,
      requestTime: Date.now(),
      durationMs: 2,
      requestHeaders: {},
      requestBody: '{}',
      responseHeaders: {},
      responseBody: 'oops',
    });
    // A delivery between two attempts, as a worker leaves it: cancellable.
    const { id: _id, ...failed } = (await api.records.get(ns, recordId))!;
    retryingId = await api.records.append({
      ...failed,
      deliveryId: 'msg_retrying',
      status: 'retrying',
      nextAttemptAt: Date.now() + 60_000,
    });
    await new DeliveryStates(api.redis).waitForRetry(ns, 'msg_retrying', 1);
  });
  afterAll(async () => {
    await api?.close();
  });

  /** A representative, valid request for each documented operation. */
  const representative = (): Record<
    string,
    { path: string; body?: unknown; contentType?: string; token?: string }
  > => {
    const repo = `/v1/namespaces/${ns}/repositories/team%2Fapp`;
    const trigger = `${repo}/triggers/${triggerId}`;
    return {
      'GET /healthz': { path: '/healthz' },
      'GET /readyz': { path: '/readyz' },
      'GET /metrics': { path: '/metrics' },
      'GET /openapi.json': { path: '/openapi.json' },
      'POST /v1/namespaces/{ns}/tokens': {
        path: `/v1/namespaces/${ns}/tokens`,
        body: { name: 'ci', scope: 'read', expiresAt: Date.now() + 3_600_000 },
      },
      'GET /v1/namespaces/{ns}/tokens': { path: `/v1/namespaces/${ns}/tokens` },
      'DELETE /v1/namespaces/{ns}/tokens/{tokenId}': { path: `/v1/namespaces/${ns}/tokens/${revocableId}` },
      'POST /v1/namespaces/{ns}/tokens/{tokenId}/rotate': {
        path: `/v1/namespaces/${ns}/tokens/${rotatableId}/rotate`,
        body: { graceSeconds: 60 },
      },
      'GET /v1/namespaces': { path: '/v1/namespaces', token: api.adminToken },
      'PUT /v1/namespaces/{ns}/ca-bundle': {
        path: `/v1/namespaces/${ns}/ca-bundle`,
        body: caPem,
        contentType: 'application/x-pem-file',
      },
      'GET /v1/namespaces/{ns}/ca-bundle': { path: `/v1/namespaces/${ns}/ca-bundle` },
      'DELETE /v1/namespaces/{ns}/ca-bundle': { path: `/v1/namespaces/${ns}/ca-bundle` },
      'DELETE /v1/namespaces/{ns}/repositories/{repo}': {
        path: `/v1/namespaces/${ns}/repositories/deletable`,
      },
      'GET /v1/namespaces/{ns}/repositories': { path: `/v1/namespaces/${ns}/repositories?limit=10` },
      'PUT /v1/namespaces/{ns}/repositories/{repo}': { path: repo, body: { repoType: 'PRIVATE' } },
      'GET /v1/namespaces/{ns}/repositories/{repo}': { path: repo },
      'POST /v1/namespaces/{ns}/repositories/{repo}/triggers': {
        path: `${repo}/triggers`,
        body: { name: 'n', url: 'http://hooks.example.com:8080/', type: 'TAG_LIST', tags: ['v1'] },
      },
      'GET /v1/namespaces/{ns}/repositories/{repo}/triggers': { path: `${repo}/triggers` },
      'GET /v1/namespaces/{ns}/repositories/{repo}/triggers/{id}': { path: trigger },
      'PUT /v1/namespaces/{ns}/repositories/{repo}/triggers/{id}': {
        path: trigger,
        body: { name: 'doc', url: 'https://hooks.example.com/x', type: 'ALL', secret: '***' },
      },
      'PATCH /v1/namespaces/{ns}/repositories/{repo}/triggers/{id}': {
        path: trigger,
        contentType: 'application/merge-patch+json',
        body: { name: 'doc', headers: null },
      },
      'DELETE /v1/namespaces/{ns}/repositories/{repo}/triggers/{id}': {
        path: `${repo}/triggers/${deletableId}`,
      },
      'POST /v1/namespaces/{ns}/repositories/{repo}/triggers/{id}/test': { path: `${trigger}/test` },
      'POST /v1/namespaces/{ns}/repositories/{repo}/triggers/{id}/records/{recordId}/redeliver': {
        path: `${trigger}/records/${recordId}/redeliver`,
      },
      'POST /v1/namespaces/{ns}/repositories/{repo}/triggers/{id}/records/{recordId}/cancel': {
        path: `${trigger}/records/${retryingId}/cancel`,
      },
      'POST /v1/events/push': {
        path: '/v1/events/push',
        body: [
          {
            namespace: ns,
            repository: 'team/app',
            tag: 'v1',
            digest: digestOf(2),
            pushedAt: new Date().toISOString(),
          },
        ],
      },
      'POST /v1/events/distribution': {
        path: '/v1/events/distribution',
        contentType: 'application/vnd.docker.distribution.events.v2+json',
        body: {
          events: [
            { id: 'd1', action: 'push', target: { repository: `${ns}/app`, tag: 'v1', digest: digestOf(3) } },
          ],
        },
      },
      'POST /v1/events/harbor': {
        path: '/v1/events/harbor',
        body: {
          type: 'PUSH_ARTIFACT',
          occur_at: 1680501893,
          event_data: {
            resources: [{ digest: digestOf(4), tag: 'v1', resource_url: `h/${ns}/app:v1` }],
            repository: { name: 'app', namespace: ns, repo_full_name: `${ns}/app` },
          },
        },
      },
      'POST /v1/events/dockerhub': {
        path: '/v1/events/dockerhub',
        body: { push_data: { tag: 'v1', pushed_at: 1417566161 }, repository: { repo_name: `${ns}/app` } },
      },
      'POST /v1/events/quay': {
        path: '/v1/events/quay',
        body: { repository: `${ns}/app`, namespace: ns, name: 'app', updated_tags: ['v1'] },
      },
      'POST /v1/events/azure': {
        path: `/v1/events/azure?namespace=${ns}`,
        body: { id: 'a1', action: 'push', target: { repository: 'app', tag: 'v1', digest: digestOf(5) } },
      },
      'POST /v1/events/ecr': {
        path: `/v1/events/ecr?namespace=${ns}`,
        body: {
          id: 'e1',
          'detail-type': 'ECR Image Action',
          source: 'aws.ecr',
          detail: { 'action-type': 'PUSH', result: 'SUCCESS', 'repository-name': 'app', 'image-tag': 'v1' },
        },
      },
      'POST /v1/events/gar': {
        path: '/v1/events/gar',
        body: {
          message: {
            messageId: 'g1',
            data: Buffer.from(
              JSON.stringify({ action: 'INSERT', tag: `us-docker.pkg.dev/${ns}/repo/app:v1` }),
            ).toString('base64'),
          },
        },
      },
      'POST /v1/events/cloudevents': {
        path: `/v1/events/cloudevents?namespace=${ns}`,
        contentType: 'application/cloudevents+json',
        body: {
          specversion: '1.0',
          id: 'c1',
          source: 'zotregistry.dev',
          type: 'zotregistry.image.updated',
          data: { name: 'app', reference: 'v1', digest: digestOf(6) },
        },
      },
    };
  };

  it('real records, as the worker writes them and the logs app reads them, fit AccessRecord and RecordPage', async () => {
    const untriggered = await api.records.append({
      triggerId,
      triggerName: 'doc',
      triggerUrl: 'https://hooks.example.com/x?token=***',
      triggerType: 'TAG_LIST',
      triggerTag: 'v1,latest',
      eventId: 'evt-untriggered',
      deliveryId: null,
      namespace: ns,
      repository: 'team/app',
      tag: 'v2',
      digest: digestOf(4),
      status: 'untriggered',
      statusCode: 'untriggered',
      attempt: 0,
      requestTime: Date.now(),
      durationMs: 0,
      requestHeaders: {},
      requestBody: '',
      responseHeaders: {},
      responseBody: '',
      note: 'the filter did not match',
    });
    const schemas = doc.components.schemas;
    for (const id of [recordId, untriggered]) {
      const record = await api.records.get(ns, id);
      expect(record, id).toBeDefined();
      expect(validate(record, schemas.AccessRecord, doc), id).toEqual([]);
    }
    const page = await api.records.list({
      namespace: ns,
      scope: { repository: 'team/app', triggerId },
      limit: 1,
    });
    expect(page.nextCursor).not.toBeNull();
    expect(validate(JSON.parse(JSON.stringify(page)), schemas.RecordPage, doc)).toEqual([]);
    const last = await api.records.list({ namespace: ns, scope: { all: true }, limit: 200 });
    expect(last.nextCursor).toBeNull();
    expect(validate(JSON.parse(JSON.stringify(last)), schemas.RecordPage, doc)).toEqual([]);
  });

  it('documents exactly the routes the app serves', () => {
    const documented = apiOperations()
      .map((op) => op.key)
      .sort();
    // The app mounts exactly its part of the route table (mountRoutes refuses a route without a handler).
    expect(apiRouteTable.map(routeKey).sort()).toEqual(documented);
    expect(Object.keys(representative()).sort()).toEqual(documented);
  });

  it('every operation answers a representative request with a documented status, media type and body', async () => {
    for (const op of apiOperations()) {
      const request = representative()[op.key]!;
      if (op.operation.requestBody && request.body !== undefined) {
        const media = op.operation.requestBody.content[request.contentType ?? 'application/json'];
        expect(media, `${op.key} takes ${request.contentType}`).toBeDefined();
        expect(validate(request.body, media.schema, doc), `${op.key} request body`).toEqual([]);
      }
      const secured = (op.operation.security ?? doc.security).length > 0;
      const response = await api.request(op.method, request.path, {
        token: secured ? (request.token ?? token) : undefined,
        body: request.body,
        ...(request.contentType ? { contentType: request.contentType } : {}),
      });
      expect(['route-not-found', 'method-not-allowed'], `${op.key} is not routed`).not.toContain(
        response.body?.code,
      );
      expect(response.status, `${op.key}: ${response.text}`).toBeLessThan(300);
      expectDocumented(op, response);
    }
  });

  it('the generic failures of each operation are documented ones, with the Problem schema', async () => {
    const foreign = await api.issueToken(uniqueName());
    for (const op of apiOperations()) {
      const request = representative()[op.key]!;
      const secured = (op.operation.security ?? doc.security).length > 0;
      const send = (options: Parameters<ApiHarness['request']>[2]) =>
        api.request(op.method, request.path, options);
      if (!secured) continue;
      const unauthorized = await send({ body: request.body });
      expect(unauthorized.status, op.key).toBe(401);
      expectDocumented(op, unauthorized);
      if (op.path.startsWith('/v1/namespaces/')) {
        const other = await send({
          token: foreign,
          body: request.body,
          ...(request.contentType ? { contentType: request.contentType } : {}),
        });
        expect([403, 404], op.key).toContain(other.status);
        expectDocumented(op, other);
      }
      if (op.operation.requestBody) {
        // A JSON route refuses text; the PEM route (text/plain or application/x-pem-file) refuses JSON.
        const takesJson = 'application/json' in op.operation.requestBody.content;
        const failures = takesJson
          ? ([
              [{ token, body: '{}', contentType: 'text/plain' }, 415],
              [{ token, body: '{"a":', contentType: 'application/json' }, 400],
              [{ token, body: JSON.stringify({ pad: 'x'.repeat(70_000) }) }, 413],
            ] as const)
          : ([
              [{ token, body: '{}', contentType: 'application/json' }, 415],
              [{ token, body: 'not a certificate', contentType: 'text/plain' }, 400],
              [{ token, body: 'x'.repeat(70_000), contentType: 'text/plain' }, 413],
            ] as const);
        for (const [options, status] of failures) {
          const failed = await send({ ...options, token: request.token ?? token });
          expect(failed.status, op.key).toBe(status);
          expectDocumented(op, failed);
        }
      }
    }
  });

  it('serves the document at /openapi.json without a token', async () => {
    const response = await api.request('GET', '/openapi.json');
    expect(response.status).toBe(200);
    expect(response.body).toEqual(doc);
  });
});
