/**
 * What an operator reads in the logs of a running stack: one line per refused request with
 * its reason, and the request id of a push (the caller's X-Request-Id, or one made up) in the
 * answer, in the records of its deliveries and in the worker's lines about them.
 */
import { type Receiver, startReceiver, waitFor } from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, INGEST_TOKEN, type Json, type Stack, startStack } from './support/stack.js';
import { digestFor } from './support/worker-kit.js';

const NS = 'reqlogs';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The JSON lines an app printed so far. */
function jsonLines(output: string[]): Json[] {
  return output.flatMap((line) => {
    try {
      return [JSON.parse(line)];
    } catch {
      return [];
    }
  });
}

describe('request logs and request ids', () => {
  let stack: Stack;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await startReceiver();
    stack = await startStack({ env: { LOG_LEVEL: 'info' }, workerEnv: { LOG_LEVEL: 'debug' } });
  }, 90_000);
  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  async function send(
    method: string,
    path: string,
    init: { token?: string; body?: string; headers?: Record<string, string> } = {},
  ) {
    const response = await fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: {
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    await response.arrayBuffer();
    return { status: response.status, requestId: response.headers.get('x-request-id') };
  }

  /** The api's "request refused" line of one request, waited for. */
  const refusalOf = (requestId: string | null) =>
    waitFor(
      () =>
        jsonLines(stack.api.output()).find(
          (line) => line.msg === 'request refused' && line.requestId === requestId,
        ),
      { timeoutMs: 5000, message: `the refusal line of request ${requestId}` },
    );

  it('logs one line per refused request, with its reason and no secret', async () => {
    const wrongToken = 'not-a-token-but-a-guess-0123456789';
    const readToken = await stack.call('POST', `/v1/namespaces/${NS}/tokens`, { name: 'ro', scope: 'read' });
    expect(readToken.status).toBe(201);
    const cases: Array<{
      request: Promise<{ status: number; requestId: string | null }>;
      status: number;
      expected: Json;
    }> = [
      {
        request: send('GET', '/v1/namespaces'),
        status: 401,
        expected: { code: 'unauthorized', reason: 'no bearer token' },
      },
      {
        // ?access_token= is taken on POST /v1/events/* only; the line never shows the query.
        request: send('GET', `/v1/namespaces?access_token=${wrongToken}`, { token: wrongToken }),
        status: 400,
        expected: { code: 'access-token-not-allowed', path: '/v1/namespaces' },
      },
      {
        request: send('GET', '/v1/namespaces', { token: wrongToken }),
        status: 401,
        expected: {
          code: 'unauthorized',
          reason: 'the token is unknown, revoked or expired',
          path: '/v1/namespaces',
        },
      },
      {
        request: send('PUT', `/v1/namespaces/${NS}/repositories/app`, {
          token: readToken.body.token,
          body: '{}',
        }),
        status: 403,
        expected: {
          code: 'forbidden',
          reason: 'a read token may only read (GET)',
          principal: 'namespace',
          namespace: NS,
        },
      },
      {
        request: send('GET', '/v1/namespaces', { token: INGEST_TOKEN }),
        status: 403,
        expected: { code: 'forbidden', principal: 'ingest' },
      },
      {
        request: send('POST', `/v1/namespaces/${NS}/repositories/app/triggers`, {
          token: ADMIN_TOKEN,
          body: JSON.stringify({
            name: 'x',
            url: 'ftp://hooks.example.com/',
            type: 'ALL',
            headers: { 'x-api-key': 'sekret-header-value' },
          }),
        }),
        status: 400,
        expected: {
          code: 'validation-failed',
          reason: 'validation-failed',
          fields: expect.arrayContaining(['url']),
        },
      },
      {
        request: send('POST', '/v1/events/push', {
          token: INGEST_TOKEN,
          body: `{"namespace":"${'x'.repeat(6 * 1024 * 1024)}"}`,
        }),
        status: 413,
        expected: { code: 'body-too-large' },
      },
    ];
    for (const { request, status, expected } of cases) {
      const answered = await request;
      expect(answered.status).toBe(status);
      expect(answered.requestId).toMatch(UUID);
      const line = await refusalOf(answered.requestId);
      expect(line).toMatchObject({ level: 30, method: expect.any(String), status, ...expected });
      expect(line.path).not.toContain('?');
      expect(line.reason.length).toBeGreaterThan(0);
    }
    // One line per refusal, none of them holding a token or a quoted header value.
    const ids = new Set(
      jsonLines(stack.api.output())
        .filter((l) => l.msg === 'request refused')
        .map((l) => l.requestId),
    );
    expect(ids.size).toBeGreaterThanOrEqual(cases.length);
    const printed = stack.api.output().join('\n');
    for (const secret of [wrongToken, readToken.body.token, INGEST_TOKEN, ADMIN_TOKEN, 'sekret-header-value'])
      expect(printed).not.toContain(secret);
  });

  it('carries the X-Request-Id of a push to the answer, the records and the worker log, or makes one', async () => {
    const trigger = await stack.createTrigger(NS, 'traced', { name: 'all', url: receiver.url, type: 'ALL' });
    const push = async (tag: string, headers: Record<string, string>) =>
      send('POST', '/v1/events/push', {
        token: INGEST_TOKEN,
        headers,
        body: JSON.stringify({
          namespace: NS,
          repository: 'traced',
          tag,
          digest: digestFor(7),
          eventId: `evt-${tag}`,
        }),
      });
    const given = await push('given', { 'X-Request-Id': 'ci-run-42.step:3' });
    const made = await push('made', {});
    const unsafe = await push('unsafe', { 'X-Request-Id': 'has spaces and "quotes"' });
    expect([given.status, made.status, unsafe.status]).toEqual([202, 202, 202]);
    expect(given.requestId).toBe('ci-run-42.step:3');
    expect(made.requestId).toMatch(UUID);
    expect(unsafe.requestId).toMatch(UUID);

    const records = await stack.records(NS, 'traced', trigger.id, 3);
    const byTag = Object.fromEntries(records.map((record: Json) => [record.tag, record.requestId]));
    expect(byTag).toEqual({ given: given.requestId, made: made.requestId, unsafe: unsafe.requestId });

    const delivered = await waitFor(
      () => {
        const lines = jsonLines(stack.workers[0]!.output()).filter((l) => l.msg === 'delivered');
        return lines.length >= 3 ? lines : undefined;
      },
      { timeoutMs: 10_000, message: 'the worker logging three deliveries' },
    );
    expect(delivered.find((line: Json) => line.eventId === 'evt-given')).toMatchObject({
      requestId: 'ci-run-42.step:3',
      namespace: NS,
      repository: 'traced',
      triggerId: trigger.id,
    });
  });
});
