import { openApiDocument, routeKey } from '@registry-triggers/http-kit';
import {
  issueNamespaceToken,
  type NewAccessRecord,
  RecordStore,
  type RedisConnection,
} from '@registry-triggers/store';
import {
  type RedisHandle,
  resolveRef,
  startRedis,
  uniqueName,
  validate,
  withTimeout,
} from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logsRouteTable } from '../src/app.js';
import { type LogsUnderTest, startLogsApp } from './support/logs-app.js';

const ADMIN = 'admin-token-for-the-openapi-test';
const INGEST = 'ingest-token-for-the-openapi-test';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

// biome-ignore lint/suspicious/noExplicitAny: the document and the bodies are walked generically, as JSON
type Json = any;

const doc: Json = openApiDocument();

interface Operation {
  key: string;
  path: string;
  operation: Json;
}

/** The documented operations the logs app serves (its path item, or the document, names it in `servers`). */
function logsOperations(): Operation[] {
  const found: Operation[] = [];
  for (const [path, item] of Object.entries<Json>(doc.paths)) {
    const servers: Json[] = item.servers ?? doc.servers;
    if (!servers.some((server) => String(server.description).startsWith('logs app'))) continue;
    for (const method of HTTP_METHODS) {
      if (item[method]) found.push({ key: `${method.toUpperCase()} ${path}`, path, operation: item[method] });
    }
  }
  return found;
}

const resolve = (node: Json): Json => (node?.$ref ? resolveRef(doc, node.$ref) : node);

/**
 * Differences between a record as served and the documented AccessRecord: the schema's own
 * rules, and no property the document does not name.
 */
function recordProblems(record: Json): string[] {
  const schema = doc.components.schemas.AccessRecord;
  const undocumented = Object.keys(record)
    .filter((name) => !(name in schema.properties))
    .map((name) => `${name} is not documented`);
  return [...validate(record, schema, doc), ...undocumented];
}

interface Answer {
  status: number;
  contentType: string;
  headers: Headers;
  body: Json;
}

let server: RedisHandle;
let redis: RedisConnection;
let logs: LogsUnderTest;
let baseUrl: string;
let store: RecordStore;
const ns = uniqueName('doc');
let nsToken: string;
let otherToken: string;
const recordIds: string[] = [];

async function get(path: string, token: string | null = ADMIN, headers: Record<string, string> = {}) {
  const response = await fetch(`${baseUrl}${path}`, {
    headers: { ...headers, ...(token === null ? {} : { Authorization: `Bearer ${token}` }) },
  });
  const text = await response.text();
  const contentType = response.headers.get('content-type')?.split(';')[0]?.trim() ?? '';
  return {
    status: response.status,
    contentType,
    headers: response.headers,
    body: contentType.endsWith('json') && text ? JSON.parse(text) : text,
  } satisfies Answer;
}

function newRecord(n: number, status: NewAccessRecord['status']): NewAccessRecord {
  const sent = status !== 'untriggered';
  return {
    triggerId: 'trg-doc',
    triggerName: 'doc',
    triggerUrl: 'https://hooks.example.com/x?token=***',
    triggerType: sent ? 'ALL' : 'TAG_LIST',
    triggerTag: sent ? '' : 'v1,latest',
    eventId: `evt-${n}`,
    deliveryId: sent ? `msg_${n}` : null,
    namespace: ns,
    repository: 'team/app',
    tag: 'v2',
    digest: `sha256:${n.toString(16).padStart(64, '0')}`,
    status,
    statusCode: sent ? (status === 'succeeded' ? '200' : 'ETIMEDOUT') : 'untriggered',
    attempt: sent ? 1 : 0,
    requestTime: Date.now(),
    durationMs: sent ? 12.5 : 0,
    requestHeaders: sent ? { 'content-type': 'application/json', 'webhook-signature': '***' } : {},
    requestBody: sent ? '{"push_data":{}}' : '',
    responseHeaders: sent ? { 'content-type': 'text/plain' } : {},
    responseBody: sent ? 'ok' : '',
    ...(sent ? {} : { note: 'the filter did not match' }),
  };
}

/** Opens the live tail after `after` and answers the first record event's data, parsed. */
async function firstStreamedRecord(after: string): Promise<{ contentType: string; record: Json }> {
  const controller = new AbortController();
  const response = await fetch(`${baseUrl}/v1/namespaces/${ns}/records/stream`, {
    headers: { Authorization: `Bearer ${ADMIN}`, Accept: 'text/event-stream', 'Last-Event-ID': after },
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  const contentType = response.headers.get('content-type')?.split(';')[0]?.trim() ?? '';
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    return await withTimeout(
      (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`the stream ended: ${text}`);
          text += decoder.decode(value, { stream: true });
          const block = text.split('\n\n').find((b) => b.startsWith('id: '));
          const data = block?.split('\n').find((line) => line.startsWith('data: '));
          if (data) return { contentType, record: JSON.parse(data.slice('data: '.length)) };
        }
      })(),
      10_000,
      'a record event on the live tail',
    );
  } finally {
    controller.abort();
  }
}

beforeAll(async () => {
  server = await startRedis();
  logs = await startLogsApp({ redisUrl: server.url, adminToken: ADMIN, ingestToken: INGEST });
  ({ redis, url: baseUrl } = logs);
  store = new RecordStore(redis);
  for (const [n, status] of (['untriggered', 'failed', 'retrying', 'succeeded'] as const).entries())
    recordIds.push(await store.append(newRecord(n, status)));
  nsToken = await issueNamespaceToken(redis, ns);
  otherToken = await issueNamespaceToken(redis, uniqueName('else'));
});
afterAll(async () => {
  await logs?.close();
  await server?.stop();
});

/** A representative request for each route the logs app serves. */
const representative = (): Record<string, string> => {
  const repo = `/v1/namespaces/${ns}/repositories/team%2Fapp`;
  return {
    'GET /healthz': '/healthz',
    'GET /readyz': '/readyz',
    'GET /metrics': '/metrics',
    'GET /openapi.json': '/openapi.json',
    'GET /': '/',
    'GET /index.html': '/index.html',
    'GET /js/{module}': '/js/main.js',
    'GET /app.css': '/app.css',
    'GET /v1/namespaces/{ns}/repositories/{repo}/triggers/{id}/records': `${repo}/triggers/trg-doc/records?limit=2`,
    'GET /v1/namespaces/{ns}/repositories/{repo}/records': `${repo}/records?status=failed&tag=v2`,
    'GET /v1/namespaces/{ns}/records': `/v1/namespaces/${ns}/records?since=2020-01-01T00:00:00Z&limit=200`,
    'GET /v1/namespaces/{ns}/records/{recordId}': `/v1/namespaces/${ns}/records/${recordIds[0]}`,
    'GET /v1/namespaces/{ns}/records/stream': `/v1/namespaces/${ns}/records/stream`,
  };
};

function expectDocumented(op: Operation, answer: Answer) {
  const response = resolve(op.operation.responses[String(answer.status)]);
  const codes = Object.keys(op.operation.responses).join(', ');
  expect(response, `${op.key} answered ${answer.status} (documented: ${codes})`).toBeDefined();
  expect(Object.keys(response.content ?? {}), `${op.key} ${answer.status}`).toContain(answer.contentType);
}

describe('the OpenAPI document on the logs app', () => {
  it('GET /openapi.json answers 200 without a token with the same document, so the same paths, as the api', async () => {
    const answer = await get('/openapi.json', null);
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('application/json');
    expect(answer.body).toEqual(doc);
    expect(Object.keys(answer.body.paths).sort()).toEqual(Object.keys(doc.paths).sort());
    expect(answer.body.paths).toHaveProperty(['/v1/namespaces/{ns}/records/stream']);
    expect(answer.body.paths).toHaveProperty(['/v1/namespaces/{ns}/tokens']);
  });

  it('documents exactly the routes the logs app serves', () => {
    const documented = logsOperations()
      .map((op) => op.key)
      .sort();
    expect(logsRouteTable.map(routeKey).sort()).toEqual(documented);
    expect(Object.keys(representative()).sort()).toEqual(documented);
  });

  it('every route answers a representative request with a documented status and media type', async () => {
    for (const op of logsOperations()) {
      const path = representative()[op.key]!;
      if (op.key.endsWith('/records/stream')) continue; // endless: read below
      const secured = (op.operation.security ?? doc.security).length > 0;
      const answer = await get(path, secured ? ADMIN : null);
      expect(answer.status, `${op.key}: ${JSON.stringify(answer.body)}`).toBe(200);
      expectDocumented(op, answer);
    }
  });

  it('serves records of the documented shape: one record, pages and the live tail', async () => {
    const one = await get(`/v1/namespaces/${ns}/records/${recordIds[1]}`, nsToken);
    expect(one.status).toBe(200);
    expect(recordProblems(one.body)).toEqual([]);

    const pageSchema = doc.components.schemas.RecordPage;
    const first = await get(`/v1/namespaces/${ns}/records?limit=3`);
    expect(Object.keys(first.body).sort()).toEqual([...pageSchema.required].sort());
    expect(first.body.records).toHaveLength(3);
    expect(typeof first.body.nextCursor).toBe('string');
    for (const record of first.body.records) expect(recordProblems(record), record.id).toEqual([]);
    const last = await get(`/v1/namespaces/${ns}/records?cursor=${first.body.nextCursor}`);
    expect(last.body.records.map((r: Json) => r.id)).toEqual([recordIds[0]]);
    expect(last.body.nextCursor).toBeNull();
    // Without limit, a page holds the documented default.
    const limit = doc.paths['/v1/namespaces/{ns}/records'].get.parameters.find(
      (p: Json) => p.name === 'limit',
    );
    expect(limit.schema.default).toBe(50);

    const op = logsOperations().find((o) => o.key === 'GET /v1/namespaces/{ns}/records/stream')!;
    const streamed = await firstStreamedRecord(recordIds[2]!);
    expect(Object.keys(op.operation.responses['200'].content)).toContain(streamed.contentType);
    expect(streamed.record.id).toBe(recordIds[3]);
    expect(recordProblems(streamed.record)).toEqual([]);
  });

  it('its failures are the documented problems: 400, 401, 403, 404', async () => {
    const records = logsOperations().filter((op) => op.path.startsWith('/v1/'));
    const failures: Array<[string, string | null, Record<string, string>, number]> = [];
    for (const op of records) {
      const path = representative()[op.key]!;
      const isStream = op.key.endsWith('/stream');
      const foreign = path.replace(`/namespaces/${ns}/`, '/namespaces/-bad-/');
      failures.push([op.key, null, {}, 401], [op.key, INGEST, {}, 403], [op.key, otherToken, {}, 404]);
      failures.push([op.key, ADMIN, { path: foreign }, 400]);
      if (op.key.endsWith('/records')) {
        for (const query of ['limit=0', 'limit=201', 'status=done', 'cursor=x', 'since=yesterday', 'other=1'])
          failures.push([op.key, ADMIN, { path: `${path.split('?')[0]}?${query}` }, 400]);
      }
      if (isStream) failures.push([op.key, ADMIN, { 'Last-Event-ID': 'x' }, 400]);
      if (op.key.endsWith('{recordId}')) {
        failures.push([op.key, ADMIN, { path: `/v1/namespaces/${ns}/records/1-999` }, 404]);
        failures.push([op.key, ADMIN, { path: `/v1/namespaces/${ns}/records/not-an-id` }, 404]);
      }
    }
    for (const [key, token, { path: override, ...headers }, status] of failures) {
      const op = records.find((o) => o.key === key)!;
      const answer = await get(override ?? representative()[key]!, token, headers);
      expect(answer.status, `${key} ${override ?? ''} ${JSON.stringify(headers)}`).toBe(status);
      expectDocumented(op, answer);
      expect(answer.contentType).toBe('application/problem+json');
      expect(answer.body).toMatchObject({ status, type: expect.any(String), title: expect.any(String) });
      if (status === 401) expect(answer.headers.get('www-authenticate'), key).toMatch(/^Bearer/);
    }
  });
});
