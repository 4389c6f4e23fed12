/**
 * A push event whose evaluation keeps running into a Redis that refuses writes (at
 * `maxmemory`) or cannot be reached is evaluated once Redis takes writes again, however many
 * tries that takes: those tries do not use up the job's attempts, which would fail it for
 * good with no record of the accepted event anywhere. The evaluation's store is a server of
 * its own, so the queue itself keeps working while the store refuses.
 */
import { defaultRetryPolicy } from '@registry-triggers/core';
import {
  createRedis,
  PartitionedQueue,
  type PushEventJob,
  pushEventJobOptions,
  queueNames,
} from '@registry-triggers/store';
import { type RedisHandle, startRedis, waitFor } from '@registry-triggers/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startWorkers } from '../src/workers.js';

let queueServer: RedisHandle;
let storeServer: RedisHandle;
beforeAll(async () => {
  [queueServer, storeServer] = await Promise.all([
    startRedis({ outage: true }),
    startRedis({ outage: true }),
  ]);
});
afterAll(async () => {
  await Promise.all([queueServer?.stop(), storeServer?.stop()]);
});

it('an evaluation refused by a full Redis more often than its attempts is still done once memory frees', async () => {
  const redis = createRedis({ REDIS_URL: queueServer.url }, { role: 'worker' });
  const store = createRedis({ REDIS_URL: storeServer.url }, { role: 'worker' });
  const pushEvents = new PartitionedQueue<PushEventJob>(queueNames.pushEvents, 1, redis);
  await store.config('SET', 'maxmemory-policy', 'noeviction');
  await store.config('SET', 'maxmemory', '1');
  let tries = 0;
  let evaluated = 0;
  // BullMQ emits 'failed' for every failed attempt, a retried one too.
  const failures: string[] = [];
  const workers = startWorkers({
    connection: redis,
    partitions: [0],
    evaluationConcurrency: 1,
    deliveryConcurrency: 1,
    policy: defaultRetryPolicy,
    lockDurationMs: 30_000,
    redisRetryDelayMs: 20,
    processPushEvent: async () => {
      tries++;
      // Twice the job's attempts, then memory frees.
      if (tries === 2 * pushEventJobOptions.attempts) await store.config('SET', 'maxmemory', '0');
      await store.set('evaluated', '1');
      evaluated++;
    },
    processDelivery: async () => undefined,
    onError: () => {},
    onDeliveryLost: async () => {},
  });
  workers.workers[0]!.on('failed', (_job, error) => failures.push(error.message));
  try {
    await pushEvents.partitions[0]!.add(
      'push',
      {
        eventId: 'evt-full',
        namespace: 'full',
        repository: 'app',
        tag: 'v1',
        digest: `sha256:${'0'.repeat(64)}`,
        pushedAt: 1,
        receivedAt: 1,
      },
      pushEventJobOptions,
    );
    await waitFor(() => evaluated === 1 || failures.length > 0, {
      timeoutMs: 20_000,
      message: 'the evaluation to be done, or an attempt to fail',
    });
    expect(failures).toEqual([]);
    expect(evaluated).toBe(1);
    expect(tries).toBe(2 * pushEventJobOptions.attempts);
  } finally {
    await workers.close();
    await pushEvents.close();
    redis.disconnect();
    store.disconnect();
  }
});
