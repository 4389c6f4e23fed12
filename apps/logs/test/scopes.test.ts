// Every route of the logs app that takes a token, tried with every kind of token: the global
// admin, the global ingest token, and a namespace's admin, read and ingest tokens and another
// namespace's admin. The table names each route as the OpenAPI document does, so a route
// added without a scope decision fails here.
import { type RouteCaller, routeKey } from '@registry-triggers/http-kit';
import { createToken } from '@registry-triggers/store';
import { uniqueName, useRedis } from '@registry-triggers/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { logsRouteTable } from '../src/app.js';
import { type LogsUnderTest, startLogsApp } from './support/logs-app.js';

const redisServer = useRedis();
const ADMIN = 'logs-scopes-admin-token';
const INGEST = 'logs-scopes-ingest-token';
type Who = 'global' | 'ingestGlobal' | 'admin' | 'read' | 'ingest' | 'foreign';
const WHO: Who[] = ['global', 'ingestGlobal', 'admin', 'read', 'ingest', 'foreign'];

let logs: LogsUnderTest;
let ns: string;
let tokens: Record<Who, string>;

beforeAll(async () => {
  logs = await startLogsApp({ redisUrl: redisServer().url, adminToken: ADMIN, ingestToken: INGEST });
  ns = uniqueName('scopes');
  const issue = async (namespace: string, scope: 'admin' | 'read' | 'ingest') =>
    (await createToken(logs.redis, namespace, { scope })).token;
  tokens = {
    global: ADMIN,
    ingestGlobal: INGEST,
    admin: await issue(ns, 'admin'),
    read: await issue(ns, 'read'),
    ingest: await issue(ns, 'ingest'),
    foreign: await issue(uniqueName('foreign'), 'admin'),
  };
});
afterAll(async () => {
  await logs?.close();
});

// [method, route as documented, path, statuses for WHO in order]
const table = (): Array<[string, string, string, number[]]> => [
  [
    'GET',
    '/v1/namespaces/{ns}/repositories/{repo}/triggers/{id}/records',
    `/v1/namespaces/${ns}/repositories/app/triggers/t1/records`,
    [200, 403, 200, 200, 403, 404],
  ],
  [
    'GET',
    '/v1/namespaces/{ns}/repositories/{repo}/records',
    `/v1/namespaces/${ns}/repositories/app/records`,
    [200, 403, 200, 200, 403, 404],
  ],
  ['GET', '/v1/namespaces/{ns}/records', `/v1/namespaces/${ns}/records`, [200, 403, 200, 200, 403, 404]],
  [
    'GET',
    '/v1/namespaces/{ns}/records/{recordId}',
    `/v1/namespaces/${ns}/records/1-0`,
    [404, 403, 404, 404, 403, 404],
  ],
  // The stream answers 200 and stays open: its head is enough.
  [
    'GET',
    '/v1/namespaces/{ns}/records/stream',
    `/v1/namespaces/${ns}/records/stream`,
    [200, 403, 200, 200, 403, 404],
  ],
];

it('has a scope decision for every route of the logs app that takes a token, as the route table declares', () => {
  const secured = logsRouteTable.filter((route) => !route.public);
  expect(
    table()
      .map(([method, route]) => `${method} ${route}`)
      .sort(),
  ).toEqual(secured.map(routeKey).sort());
  // A caller the table names is let through (2xx, or 4xx other than 403); one it does not name is 403.
  const callers: RouteCaller[] = ['admin-token', 'ingest-token', 'admin', 'read', 'ingest'];
  for (const [method, name, , statuses] of table()) {
    const route = secured.find((r) => routeKey(r) === `${method} ${name}`)!;
    for (const [i, caller] of callers.entries())
      expect(statuses[i] !== 403, `${method} ${name} as ${caller}`).toBe(route.callers.includes(caller));
  }
});

it('answers each route as the scope says: read and admin read, ingest tokens are refused, another tenant is 404', async () => {
  const got: string[] = [];
  const want: string[] = [];
  for (const [method, route, path, statuses] of table()) {
    for (const [i, who] of WHO.entries()) {
      const controller = new AbortController();
      const response = await fetch(`${logs.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${tokens[who]}` },
        signal: controller.signal,
      });
      if (response.status >= 400) {
        expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(((await response.json()) as { status: number }).status).toBe(response.status);
      }
      controller.abort();
      got.push(`${method} ${route} as ${who}: ${response.status}`);
      want.push(`${method} ${route} as ${who}: ${statuses[i]}`);
    }
  }
  expect(got).toEqual(want);
});
