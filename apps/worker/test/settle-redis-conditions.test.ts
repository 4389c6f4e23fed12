/**
 * A receiver's answer is never lost to a Redis that refuses the attempt's record for a while
 * (at `maxmemory`, or the log's master failing over): the write is tried again, and when Redis
 * refuses for longer the answer stays on the job, which settles it on its next run without
 * sending again and without using an attempt. The access log is a server of its own here, so
 * the queue keeps working while the log refuses, as two masters of a cluster would.
 */
import {
  createRedis,
  type DeliveryJob,
  deliveryJobOptions,
  PartitionedQueue,
  queueNames,
  RecordStore,
  type RedisConnection,
  TriggerStore,
} from '@registry-triggers/store';
import {
  type Receiver,
  type RedisHandle,
  startReceiver,
  startRedis,
  waitFor,
} from '@registry-triggers/testing';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { testWorkerRuntime } from './support/worker-runtime.js';

const NS = 'blip';
let queueServer: RedisHandle;
let storeServer: RedisHandle;
let redis: RedisConnection;
let store: RedisConnection;
let receiver: Receiver;
let deliveries: PartitionedQueue<DeliveryJob>;

beforeAll(async () => {
  [queueServer, storeServer, receiver] = await Promise.all([
    startRedis(),
    startRedis({ outage: true }),
    startReceiver(),
  ]);
  redis = createRedis({ REDIS_URL: queueServer.url }, { role: 'worker' });
  store = createRedis({ REDIS_URL: storeServer.url }, { role: 'worker' });
  await store.config('SET', 'maxmemory-policy', 'noeviction');
  deliveries = new PartitionedQueue<DeliveryJob>(queueNames.deliveries, 1, redis);
  await new TriggerStore(redis).create(
    {
      id: 't1',
      namespace: NS,
      repository: 'app',
      name: 'deploy',
      url: receiver.url,
      type: 'ALL',
      enabled: true,
      createdAt: 1,
      updatedAt: 1,
    },
    { triggersPerRepository: 10, triggersPerNamespace: 10 },
  );
}, 60_000);

afterAll(async () => {
  await deliveries?.close();
  redis?.disconnect();
  store?.disconnect();
  await receiver?.close();
  await Promise.all([queueServer?.stop(), storeServer?.stop()]);
});

beforeEach(async () => {
  receiver.reset();
  await store.config('SET', 'maxmemory', '0');
});

async function deliver(deliveryId: string) {
  await deliveries.partitions[0]!.add(
    'deliver',
    {
      deliveryId,
      eventId: `evt-${deliveryId}`,
      namespace: NS,
      repository: 'app',
      triggerId: 't1',
      tag: 'v1',
      digest: `sha256:${'0'.repeat(64)}`,
      pushedAt: 1,
      body: '{"push_data":{}}',
    },
    { ...deliveryJobOptions(), jobId: deliveryId },
  );
}

const recordsOf = async (deliveryId: string) =>
  (
    await new RecordStore(store).list({
      namespace: NS,
      scope: { repository: 'app', triggerId: 't1' },
      limit: 50,
    })
  ).records
    .filter((record) => record.deliveryId === deliveryId)
    .map((record) => `${record.attempt} ${record.status}`);

const sentFor = (deliveryId: string) =>
  receiver.requests.filter((request) => request.headers['webhook-id'] === deliveryId).length;

const completed = (deliveryId: string) =>
  waitFor(async () => (await deliveries.partitions[0]!.getJobState(deliveryId)) === 'completed', {
    timeoutMs: 15_000,
    message: `${deliveryId} to complete`,
  });

it('a record write refused for a moment is written by the settle’s retries: one send, one record', async () => {
  const runtime = testWorkerRuntime(redis, {}, { recordsRedis: store, writeRetryDelaysMs: [100, 200, 400] });
  // Full the moment the receiver answers, free again 150 ms later.
  receiver.respondWith(async () => {
    await store.config('SET', 'maxmemory', '1');
    setTimeout(() => void store.config('SET', 'maxmemory', '0'), 150);
    return { status: 200 };
  });
  runtime.start();
  try {
    await deliver('msg_blip');
    await completed('msg_blip');
    expect(sentFor('msg_blip')).toBe(1);
    expect(await recordsOf('msg_blip')).toEqual(['1 succeeded']);
  } finally {
    await runtime.close();
  }
});

it('a record refused past the retries waits on the job with its answer: settled later, not sent again, no attempt used', async () => {
  const runtime = testWorkerRuntime(redis, {}, { recordsRedis: store, writeRetryDelaysMs: [20] });
  receiver.respondWith(async () => {
    await store.config('SET', 'maxmemory', '1');
    return { status: 200 };
  });
  runtime.start();
  try {
    await deliver('msg_kept');
    const queue = deliveries.partitions[0]!;
    const kept = await waitFor(
      async () => {
        const job = await queue.getJob('msg_kept');
        return job?.data.unsettled ? job : undefined;
      },
      { timeoutMs: 15_000, message: 'the answer to be kept on the job' },
    );
    expect(kept.attemptsMade).toBe(0);
    expect(kept.data.unsettled?.attempt).toBe(1);
    await store.config('SET', 'maxmemory', '0');
    await completed('msg_kept');
    expect(sentFor('msg_kept')).toBe(1);
    expect(await recordsOf('msg_kept')).toEqual(['1 succeeded']);
  } finally {
    await runtime.close();
  }
});
