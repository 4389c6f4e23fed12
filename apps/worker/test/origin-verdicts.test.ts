/**
 * The origin guard learns from the receiver's answers only. An attempt cut short on our side
 * before any answer (here: the namespace's CA bundle cannot be read) frees its slot without
 * counting as a healthy attempt, which would raise the origin's in-flight limit unearned.
 */
import {
  createRedis,
  type DeliveryJob,
  deliveryJobOptions,
  keys,
  PartitionedQueue,
  queueNames,
  type RedisConnection,
  TriggerStore,
} from '@registry-triggers/store';
import { type RedisHandle, startRedis } from '@registry-triggers/testing';
import { Job } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OriginGuard } from '../src/origin-guard.js';
import { testWorkerRuntime } from './support/worker-runtime.js';

const NS = 'verdicts';
const URL = 'https://127.0.0.1:9/hook';
let redisServer: RedisHandle;
let redis: RedisConnection;

beforeAll(async () => {
  redisServer = await startRedis();
  redis = createRedis({ REDIS_URL: redisServer.url }, { role: 'worker' });
});
afterAll(async () => {
  await redis?.quit();
  await redisServer?.stop();
});

it('a send that throws before any answer frees its slot and leaves the origin’s limit as it was', async () => {
  await new TriggerStore(redis).create(
    {
      id: 't1',
      namespace: NS,
      repository: 'app',
      name: 'deploy',
      url: URL,
      type: 'ALL',
      enabled: true,
      createdAt: 1,
      updatedAt: 1,
    },
    { triggersPerRepository: 10, triggersPerNamespace: 10 },
  );
  // Not a hash: reading the namespace's CA bundle fails (WRONGTYPE), as an unreadable store would.
  await redis.set(keys.caBundle(NS), 'not a bundle');
  const guard = new OriginGuard({ maxInFlight: 64, initialInFlight: 1 });
  const runtime = testWorkerRuntime(redis, {}, { guard });
  const deliveries = new PartitionedQueue<DeliveryJob>(queueNames.deliveries, 1, redis);
  try {
    const queue = deliveries.partitions[0]!;
    await queue.add(
      'deliver',
      {
        deliveryId: 'msg_v',
        eventId: 'evt-v',
        namespace: NS,
        repository: 'app',
        triggerId: 't1',
        tag: 'v1',
        digest: '',
        pushedAt: 1,
        body: '{}',
      },
      { ...deliveryJobOptions(), jobId: 'msg_v' },
    );
    const job = (await Job.fromId<DeliveryJob>(queue, 'msg_v'))!;
    await expect(runtime.processDelivery(job)).rejects.toThrow(/WRONGTYPE/);
    expect(guard.limitOf(URL)).toBe(1);
    // Its one slot is free again.
    expect(guard.admit(URL).admitted).toBe(true);
  } finally {
    await runtime.close();
    await deliveries.close();
  }
});
