// Redis at `maxmemory` with `noeviction` refuses writes: ingestion answers 503 storage-full
// with Retry-After (never a 500), takes nothing of the refused request, and takes the same
// event again once memory frees.
import { type PushEventJob, queueNames } from '@registry-triggers/store';
import { redisCommand, uniqueName, useRedis } from '@registry-triggers/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ApiHarness, digestOf, expectProblemShape, startApi } from './support/api-harness.js';

const redisServer = useRedis({ outage: true });
let api: ApiHarness;

beforeAll(async () => {
  api = await startApi(redisServer());
});
afterAll(async () => {
  await api?.close();
});

const config = (...args: string[]) => {
  const server = redisServer();
  return redisCommand(server.host, server.port, ['CONFIG', 'SET', ...args]);
};

async function queuedEventIds(): Promise<string[]> {
  const queue = api.inspectQueue<PushEventJob>(queueNames.pushEvents);
  const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active'], 0, -1, true);
  await queue.close();
  return jobs.map((job) => job.data.eventId);
}

it('answers 503 storage-full with Retry-After while Redis is out of memory, and takes the event once it frees', async () => {
  const ns = uniqueName();
  const event = { namespace: ns, repository: 'app', tag: 'v1', digest: digestOf(1), eventId: `${ns}-1` };
  // The repository exists already: the refused write is the event itself.
  expect((await api.request('POST', '/v1/events/push', { token: api.ingestToken, body: event })).status).toBe(
    202,
  );
  const second = { ...event, tag: 'v2', eventId: `${ns}-2` };
  await config('maxmemory-policy', 'noeviction');
  await config('maxmemory', '1');
  try {
    const refused = await api.request('POST', '/v1/events/push', { token: api.ingestToken, body: second });
    const problem = expectProblemShape(refused, 503);
    expect(problem.code).toBe('storage-full');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(api.logged.filter((line) => line.msg === 'unhandled error')).toEqual([]);
  } finally {
    await config('maxmemory', '0');
  }
  expect(await queuedEventIds()).toEqual([`${ns}-1`]);
  const retried = await api.request('POST', '/v1/events/push', { token: api.ingestToken, body: second });
  expect(retried.status).toBe(202);
  expect((await queuedEventIds()).sort()).toEqual([`${ns}-1`, `${ns}-2`]);
});
