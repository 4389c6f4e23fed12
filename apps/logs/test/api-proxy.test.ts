// The logs app forwarding the routes it does not serve to the api (CONSOLE_API_URL): a real
// HTTP server on loopback stands in for the api and records what arrived.
import { once } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Receiver, type RedisHandle, startReceiver, startRedis } from '@registry-triggers/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LogsUnderTest, startLogsApp } from './support/logs-app.js';

const ADMIN = 'admin-token-for-the-api-proxy-test';
const INGEST = 'ingest-token-for-the-api-proxy-test';
const TRIGGERS = '/v1/namespaces/acme/repositories/team%2Fweb/triggers';

let redis: RedisHandle;
let api: Receiver;
let logs: LogsUnderTest;

beforeAll(async () => {
  [redis, api] = await Promise.all([startRedis(), startReceiver()]);
  logs = await startLogsApp({
    redisUrl: redis.url,
    adminToken: ADMIN,
    ingestToken: INGEST,
    apiUrl: api.origin,
    apiTimeoutMs: 1000,
  });
});

afterAll(async () => {
  await logs?.close();
  await api?.close();
  await redis?.stop();
});

beforeEach(() => api.reset());

/** A request through node:http, which (unlike fetch) lets a test send a Connection header. */
async function send(
  method: string,
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const outgoing = request(url, { method, headers });
  outgoing.end(body);
  const [answer] = (await once(outgoing, 'response')) as [IncomingMessage];
  let text = '';
  for await (const chunk of answer) text += chunk;
  return { status: answer.statusCode ?? 0, headers: answer.headers, body: text };
}

describe('a route of the api', () => {
  it('reaches the api with the path as sent, the body and the end-to-end headers only', async () => {
    api.respondWith(() => ({
      status: 201,
      headers: { 'Content-Type': 'application/json', Location: `${TRIGGERS}/t1`, 'X-Answer': 'yes' },
      body: '{"id":"t1"}',
    }));
    const body = JSON.stringify({ name: 'hook', url: 'http://127.0.0.1:9/x', type: 'ALL' });
    const answer = await send(
      'POST',
      `${logs.url}${TRIGGERS}?dry=1`,
      {
        Authorization: `Bearer ${ADMIN}`,
        'Content-Type': 'application/json',
        'X-Request-Id': 'req-1',
        Connection: 'keep-alive, x-one-hop',
        'X-One-Hop': 'dropped',
        TE: 'trailers',
      },
      body,
    );
    expect(answer.status).toBe(201);
    expect(answer.headers['x-answer']).toBe('yes');
    expect(answer.headers.via).toBe('1.1 registry-triggers-logs');
    expect(answer.headers.location).toBe(`${TRIGGERS}/t1`);
    expect(answer.body).toBe('{"id":"t1"}');

    const [got] = api.requests;
    expect(got?.method).toBe('POST');
    // The nested repository stays one %2F-encoded segment; the query string goes along.
    expect(got?.url).toBe(`${TRIGGERS}?dry=1`);
    expect(got?.body).toBe(body);
    expect(got?.headers.authorization).toBe(`Bearer ${ADMIN}`);
    expect(got?.headers['x-request-id']).toBe('req-1');
    expect(got?.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(got?.headers.host).toBe(`127.0.0.1:${api.port}`);
    expect(got?.headers.via).toBe('1.1 registry-triggers-logs');
    expect(got?.headers).not.toHaveProperty('x-one-hop');
    expect(got?.headers).not.toHaveProperty('te');
    expect(got?.headers.connection ?? '').not.toContain('x-one-hop');
  });

  it("passes the api's problems through, and takes tokens only the api knows (ingest)", async () => {
    api.respondWith(() => ({
      status: 400,
      headers: { 'Content-Type': 'application/problem+json' },
      body: '{"status":400,"errors":[{"path":"url","message":"bad"}]}',
    }));
    const answer = await fetch(`${logs.url}/v1/events/push`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${INGEST}`, 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
    expect(await answer.json()).toEqual({ status: 400, errors: [{ path: 'url', message: 'bad' }] });
    expect(api.requests).toHaveLength(1);
  });

  it('streams the answer: the first bytes arrive before the api has finished', async () => {
    let finish = () => {};
    const streaming: Server = createServer((_req, res: ServerResponse) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('first ');
      finish = () => res.end('last');
    });
    streaming.listen(0, '127.0.0.1');
    await once(streaming, 'listening');
    const other = await startLogsApp({
      redisUrl: redis.url,
      adminToken: ADMIN,
      apiUrl: `http://127.0.0.1:${(streaming.address() as AddressInfo).port}`,
    });
    try {
      const answer = await fetch(`${other.url}/v1/namespaces`, {
        headers: { Authorization: `Bearer ${ADMIN}` },
      });
      const reader = answer.body!.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toBe('first ');
      finish();
      let rest = '';
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
        rest += new TextDecoder().decode(chunk.value);
      expect(rest).toBe('last');
    } finally {
      await other.close();
      streaming.closeAllConnections();
      streaming.close();
    }
  });
});

describe('a route of the logs app', () => {
  it('is answered here, not forwarded: its own 401 and 405', async () => {
    const unauthenticated = await fetch(`${logs.url}/v1/namespaces/acme/records`);
    expect(unauthenticated.status).toBe(401);
    const wrongMethod = await fetch(`${logs.url}/v1/namespaces/acme/repositories/team%2Fweb/records`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN}` },
    });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, HEAD');
    const listed = await fetch(`${logs.url}/v1/namespaces/acme/records`, {
      headers: { Authorization: `Bearer ${ADMIN}` },
    });
    expect(listed.status).toBe(200);
    expect(await fetch(`${logs.url}/healthz`).then((r) => r.status)).toBe(200);
    expect(api.requests).toHaveLength(0);
  });
});

describe('an api that does not answer', () => {
  it('is a 504 problem when it stays silent past the timeout', async () => {
    api.respondWith(() => ({ hang: true }));
    const started = Date.now();
    const answer = await fetch(`${logs.url}/v1/namespaces`, {
      headers: { Authorization: `Bearer ${ADMIN}` },
    });
    expect(answer.status).toBe(504);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await answer.json()) as { code: string }).code).toBe('api-timeout');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('is a 502 problem when it is down', async () => {
    const down = await startReceiver();
    await down.close();
    const other = await startLogsApp({ redisUrl: redis.url, adminToken: ADMIN, apiUrl: down.origin });
    try {
      const answer = await fetch(`${other.url}/v1/namespaces`, {
        headers: { Authorization: `Bearer ${ADMIN}` },
      });
      expect(answer.status).toBe(502);
      const problem = (await answer.json()) as { code: string; detail: string };
      expect(problem.code).toBe('api-unreachable');
      expect(problem.detail).toContain('ECONNREFUSED');
      expect(answer.headers.get('retry-after')).toBe('1');
    } finally {
      await other.close();
    }
  });
});
