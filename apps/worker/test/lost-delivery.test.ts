/**
 * A delivery whose workers kept dying is failed by BullMQ without our processor running;
 * its record must still reach the access log. The stall script's mark (`defa` on the
 * job hash) is set directly, which is exactly what BullMQ does after the third stall.
 */
import {
  createRedis,
  type DeliveryJob,
  deliveryJobOptions,
  keys,
  PartitionedQueue,
  queueNames,
  RecordStore,
  TriggerStore,
} from '@registry-triggers/store';
import { type RedisHandle, startRedis, waitFor } from '@registry-triggers/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { STALLED_TOO_OFTEN } from '../src/bullmq-adapter.js';
import { testWorkerRuntime } from './support/worker-runtime.js';

let redisServer: RedisHandle;
beforeAll(async () => {
  redisServer = await startRedis();
});
afterAll(async () => {
  await redisServer?.stop();
});

it('writes a failed WORKER_LOST record for a delivery BullMQ failed after too many stalls', async () => {
  const redis = createRedis({ REDIS_URL: redisServer.url }, { role: 'worker' });
  const triggers = new TriggerStore(redis);
  const records = new RecordStore(redis);
  const deliveries = new PartitionedQueue<DeliveryJob>(queueNames.deliveries, 1, redis);
  await triggers.create(
    {
      id: 't1',
      namespace: 'lost',
      repository: 'app',
      name: 'redeploy',
      url: 'https://hooks.example.com/x?token=abc',
      type: 'ALL',
      enabled: true,
      createdAt: 1,
      updatedAt: 1,
    },
    { triggersPerRepository: 10, triggersPerNamespace: 10 },
  );
  const job = await deliveries.partitions[0]!.add(
    'deliver',
    {
      deliveryId: 'msg_lost',
      eventId: 'evt-lost',
      namespace: 'lost',
      repository: 'app',
      triggerId: 't1',
      tag: 'v1',
      digest: `sha256:${'0'.repeat(64)}`,
      pushedAt: 1,
      body: '{"push_data":{}}',
    },
    { ...deliveryJobOptions(), jobId: 'msg_lost' },
  );
  await redis.hset(
    `${keys.queuePrefix(queueNames.deliveries, 0)}:${queueNames.deliveries}:${job.id}`,
    'defa',
    STALLED_TOO_OFTEN,
  );

  // The worker as main.ts runs it: its processor would send (and record) an attempt if it ran.
  const runtime = testWorkerRuntime(redis);
  runtime.start();
  try {
    const page = await waitFor(
      async () => {
        const result = await records.list({
          namespace: 'lost',
          scope: { repository: 'app', triggerId: 't1' },
          limit: 10,
        });
        return result.records.length > 0 ? result : undefined;
      },
      { timeoutMs: 10_000, message: 'the lost delivery record' },
    );
    expect(page.records).toHaveLength(1);
    expect(page.records[0]).toMatchObject({
      status: 'failed',
      statusCode: 'WORKER_LOST',
      deliveryId: 'msg_lost',
      eventId: 'evt-lost',
      triggerUrl: 'https://hooks.example.com/x?token=***',
      requestBody: '{"push_data":{}}',
    });
  } finally {
    await runtime.close();
    await deliveries.close();
    redis.disconnect();
  }
});
