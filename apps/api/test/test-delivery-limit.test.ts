/**
 * POST .../triggers/{id}/test sends a request to somebody's server on the caller's word, so a
 * token may send only TEST_DELIVERIES_PER_MINUTE of them: counted in Redis, the limit holds
 * across api replicas and under concurrent calls; past it the answer is a 429 problem with
 * Retry-After, and nothing is queued. Two apis on one real Redis, over real HTTP.
 */
import { type DeliveryJob, queueNames } from '@registry-triggers/store';
import { uniqueName, useRedis } from '@registry-triggers/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ApiHarness, expectProblemShape, startApi } from './support/api-harness.js';

const PER_MINUTE = 4;
const redisServer = useRedis();
let apis: ApiHarness[];
let ns: string;
let testPath: string;

beforeAll(async () => {
  // No worker runs: each test delivery answers 202 pending after the (short) wait.
  const options = { testDeliveriesPerMinute: PER_MINUTE, testDeliveryWaitMs: 100 };
  apis = [await startApi(redisServer(), options), await startApi(redisServer(), options)];
  ns = uniqueName('rate');
  const created = await apis[0]!.request('POST', `/v1/namespaces/${ns}/repositories/app/triggers`, {
    token: apis[0]!.adminToken,
    body: { name: 'hook', url: 'https://hooks.example.com/x', type: 'ALL' },
  });
  expect(created.status).toBe(201);
  testPath = `/v1/namespaces/${ns}/repositories/app/triggers/${created.body.id}/test`;
});
afterAll(async () => {
  await Promise.all((apis ?? []).map((api) => api.close()));
});

const queued = async () =>
  (
    await apis[0]!.inspectQueue<DeliveryJob>(queueNames.deliveries).getJobs(['waiting', 'delayed', 'active'])
  ).filter((job) => job.data.namespace === ns).length;

it('one token gets PER_MINUTE tests across both apis, then 429 with Retry-After; another token is counted apart', async () => {
  const token = await apis[0]!.issueToken(ns);
  const statuses: number[] = [];
  for (let i = 0; i < PER_MINUTE; i++) {
    statuses.push((await apis[i % 2]!.request('POST', testPath, { token })).status);
  }
  expect(statuses).toEqual(Array(PER_MINUTE).fill(202));
  const before = await queued();

  for (const api of apis) {
    const refused = await api.request('POST', testPath, { token });
    expectProblemShape(refused, 429);
    expect(refused.body.code).toBe('rate-limited');
    expect(refused.body.detail).toMatch(/4 test deliveries per minute/);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, String(retryAfter)).toBe(
      true,
    );
  }
  // A refused test queued nothing.
  expect(await queued()).toBe(before);

  const other = await apis[1]!.issueToken(ns);
  expect((await apis[1]!.request('POST', testPath, { token: other })).status).toBe(202);
  // The limit counts tests sent, not other requests: the token still reads its trigger.
  expect((await apis[0]!.request('GET', testPath.replace(/\/test$/, ''), { token })).status).toBe(200);
});

it('concurrent calls of one token on two apis: exactly PER_MINUTE get through', async () => {
  const token = await apis[0]!.issueToken(ns);
  const answers = await Promise.all(
    Array.from({ length: 12 }, (_, i) => apis[i % 2]!.request('POST', testPath, { token })),
  );
  const statuses = answers.map((answer) => answer.status).sort();
  expect(statuses).toEqual([...Array(PER_MINUTE).fill(202), ...Array(12 - PER_MINUTE).fill(429)]);
});

it('an unknown trigger is 404 whatever the rate', async () => {
  const token = await apis[0]!.issueToken(ns);
  for (let i = 0; i < PER_MINUTE + 2; i++) {
    const answer = await apis[0]!.request('POST', testPath.replace(/triggers\/[^/]+/, 'triggers/nope'), {
      token,
    });
    expect(answer.status).toBe(404);
  }
  expect((await apis[0]!.request('POST', testPath, { token })).status).toBe(202);
});
