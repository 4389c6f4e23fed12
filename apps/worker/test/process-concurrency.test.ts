/**
 * WORKER_CONCURRENCY is deliveries in flight per worker process (the contract), however many
 * queue partitions the process consumes: one busy partition may use every slot, and all
 * partitions together never run more than that at once.
 */
import { defaultRetryPolicy } from '@registry-triggers/core';
import { createRedis, PartitionedQueue, queueNames } from '@registry-triggers/store';
import { type RedisHandle, startRedis, waitFor } from '@registry-triggers/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startWorkers } from '../src/workers.js';

const PARTITIONS = 4;
const CONCURRENCY = 8;

let redisServer: RedisHandle;
beforeAll(async () => {
  redisServer = await startRedis();
});
afterAll(async () => {
  await redisServer?.stop();
});

async function runDeliveries(
  jobsPerPartition: number[],
): Promise<{ done: number; maxInFlight: number; mostHeld: number }> {
  const redis = createRedis({ REDIS_URL: redisServer.url }, { role: 'worker' });
  await redis.flushall();
  const queue = new PartitionedQueue<{ n: number }>(queueNames.deliveries, PARTITIONS, redis);
  let inFlight = 0;
  let maxInFlight = 0;
  let done = 0;
  // Jobs locked by this process (active in BullMQ), whether running or waiting for a slot.
  let mostHeld = 0;
  const held = async () => {
    const counts = await Promise.all(queue.partitions.map((partition) => partition.getActiveCount()));
    mostHeld = Math.max(
      mostHeld,
      counts.reduce((a, b) => a + b, 0),
    );
  };
  const workers = startWorkers({
    connection: redis,
    partitions: Array.from({ length: PARTITIONS }, (_, partition) => partition),
    evaluationConcurrency: 1,
    deliveryConcurrency: CONCURRENCY,
    policy: defaultRetryPolicy,
    lockDurationMs: 30_000,
    processPushEvent: async () => undefined,
    processDelivery: async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 40));
      inFlight--;
      done++;
    },
    onError: () => {},
    onDeliveryLost: async () => {},
  });
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await held();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  try {
    await Promise.all(
      jobsPerPartition.map((count, partition) =>
        queue.partitions[partition]!.addBulk(
          Array.from({ length: count }, (_, n) => ({ name: 'deliver', data: { n } })),
        ),
      ),
    );
    const total = jobsPerPartition.reduce((a, b) => a + b, 0);
    await waitFor(() => done === total, { timeoutMs: 20_000, message: `${total} deliveries` });
    return { done, maxInFlight, mostHeld };
  } finally {
    sampling = false;
    await sampler;
    await workers.close();
    await queue.close();
    await redis.quit();
  }
}

it('runs at most WORKER_CONCURRENCY deliveries at once over all partitions', async () => {
  const { done, maxInFlight } = await runDeliveries([20, 20, 20, 20]);
  expect(done).toBe(80);
  expect(maxInFlight).toBe(CONCURRENCY);
});

it('holds about WORKER_CONCURRENCY jobs, not that many per partition', async () => {
  const { done, mostHeld } = await runDeliveries([30, 30, 30, 30]);
  expect(done).toBe(120);
  // Near the slots: each partition's worker may take a job beyond them (BullMQ's concurrency
  // is at least 1), and on a busy machine another while a finished job is still being moved
  // to completed (BullMQ counts it, this process no longer does). Partitions × concurrency
  // (32) before.
  expect(mostHeld).toBeLessThanOrEqual(CONCURRENCY + 2 * PARTITIONS);
});

it('lets one busy partition use every slot', async () => {
  const { maxInFlight } = await runDeliveries([40, 0, 0, 0]);
  expect(maxInFlight).toBe(CONCURRENCY);
});
