/**
 * What a job run again writes to the access log, and what it sends.
 *
 * A delivery job run again after a stall (its worker died after sending and recording the
 * attempt but before completing the job, or the completion was lost with a failing-over
 * master) ends the way its recorded attempt ended, without sending it again. An attempt
 * that left no record is sent: nothing says it reached the receiver. The stall itself is
 * what BullMQ's stall check does to the job hash (`stc` + 1), set directly; the processors,
 * Redis, the access log and the receiver are the real ones.
 *
 * An event id pushed again after the 24-hour dedupe window is a new event: its deliveries
 * and its untriggered records are written again, not taken for re-runs of the first.
 */
import {
  createRedis,
  type DeliveryJob,
  deliveryJobOptions,
  PartitionedQueue,
  type PushEventJob,
  queueNames,
  RecordStore,
  type RedisConnection,
  TriggerStore,
} from '@registry-triggers/store';
import { type Receiver, type RedisHandle, startReceiver, startRedis } from '@registry-triggers/testing';
import { Job } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RetryLater } from '../src/bullmq-outcome.js';
import { testWorkerRuntime } from './support/worker-runtime.js';

const NS = 'stalled';
const REPO = 'app';

let redisServer: RedisHandle;
let redis: RedisConnection;
let receiver: Receiver;
let deliveries: PartitionedQueue<DeliveryJob>;
let records: RecordStore;
let runtime: ReturnType<typeof testWorkerRuntime>;
let process: ReturnType<typeof testWorkerRuntime>['processDelivery'];
let evaluate: ReturnType<typeof testWorkerRuntime>['processPushEvent'];

beforeAll(async () => {
  redisServer = await startRedis();
  redis = createRedis({ REDIS_URL: redisServer.url }, { role: 'worker' });
  receiver = await startReceiver();
  const triggers = new TriggerStore(redis);
  await triggers.create(
    {
      id: 't1',
      namespace: NS,
      repository: REPO,
      name: 'redeploy',
      url: receiver.url,
      type: 'ALL',
      enabled: true,
      createdAt: 1,
      updatedAt: 1,
    },
    { triggersPerRepository: 10, triggersPerNamespace: 10 },
  );
  await triggers.create(
    {
      id: 't2',
      namespace: NS,
      repository: 'other',
      name: 'releases only',
      url: receiver.url,
      type: 'TAG_LIST',
      tags: ['release'],
      enabled: true,
      createdAt: 1,
      updatedAt: 1,
    },
    { triggersPerRepository: 10, triggersPerNamespace: 10 },
  );
  records = new RecordStore(redis);
  deliveries = new PartitionedQueue<DeliveryJob>(queueNames.deliveries, 1, redis);
  runtime = testWorkerRuntime(redis);
  ({ processDelivery: process, processPushEvent: evaluate } = runtime);
}, 60_000);

afterAll(async () => {
  await deliveries?.close();
  await runtime?.close();
  await receiver?.close();
  await redis?.quit();
  await redisServer?.stop();
});

/** A delivery job as the evaluation adds it; `stalls` as BullMQ's stall check would count them. */
async function deliveryJob(deliveryId: string, stalls = 0): Promise<Job<DeliveryJob>> {
  const queue = deliveries.partitions[0]!;
  await queue.add(
    'deliver',
    {
      deliveryId,
      eventId: `evt-${deliveryId}`,
      namespace: NS,
      repository: REPO,
      triggerId: 't1',
      tag: 'v1',
      digest: `sha256:${'0'.repeat(64)}`,
      pushedAt: Date.UTC(2026, 10, 27),
      body: '{"push_data":{"tag":"v1"}}',
    },
    { ...deliveryJobOptions(), jobId: deliveryId },
  );
  if (stalls > 0) await stall(deliveryId, stalls);
  return (await Job.fromId<DeliveryJob>(queue, deliveryId))!;
}

async function stall(deliveryId: string, times = 1): Promise<Job<DeliveryJob>> {
  const queue = deliveries.partitions[0]!;
  await redis.hincrby(`${queue.qualifiedName}:${deliveryId}`, 'stc', times);
  return (await Job.fromId<DeliveryJob>(queue, deliveryId))!;
}

const sentFor = (deliveryId: string) =>
  receiver.requests.filter((request) => request.headers['webhook-id'] === deliveryId).length;

const recordsOf = async (deliveryId: string) =>
  (
    await records.list({ namespace: NS, scope: { repository: REPO, triggerId: 't1' }, limit: 200 })
  ).records.filter((record) => record.deliveryId === deliveryId);

it('a stalled re-run of a sent and recorded attempt ends as recorded and sends nothing', async () => {
  const first = await process(await deliveryJob('msg_done'));
  expect(sentFor('msg_done')).toBe(1);

  const again = await process(await stall('msg_done'));
  expect(again).toEqual(first);
  expect(sentFor('msg_done')).toBe(1);
  expect((await recordsOf('msg_done')).map((record) => record.status)).toEqual(['succeeded']);
});

it('a stalled re-run of a recorded retrying attempt schedules the next attempt, unsent', async () => {
  receiver.respondWith(() => ({ status: 503 }));
  try {
    await expect(process(await deliveryJob('msg_retry'))).rejects.toBeInstanceOf(RetryLater);
    expect(sentFor('msg_retry')).toBe(1);
    await expect(process(await stall('msg_retry'))).rejects.toBeInstanceOf(RetryLater);
    expect(sentFor('msg_retry')).toBe(1);
    expect((await recordsOf('msg_retry')).map((record) => record.status)).toEqual(['retrying']);
  } finally {
    receiver.reset();
  }
});

it('a stalled job whose attempt left no record is sent: nothing says it arrived', async () => {
  await process(await deliveryJob('msg_unsent', 1));
  expect(sentFor('msg_unsent')).toBe(1);
  expect((await recordsOf('msg_unsent')).map((record) => record.status)).toEqual(['succeeded']);
});

it('a later job under the same delivery id (its event id pushed again a day later) is sent and recorded again', async () => {
  await process(await deliveryJob('msg_later'));
  // The first job is gone (completed jobs are kept for an hour); the event comes again.
  await (await Job.fromId(deliveries.partitions[0]!, 'msg_later'))!.remove();
  await new Promise((resolve) => setTimeout(resolve, 5));
  await process(await deliveryJob('msg_later'));
  expect(sentFor('msg_later')).toBe(2);
  expect((await recordsOf('msg_later')).map((record) => record.status)).toEqual(['succeeded', 'succeeded']);
});

it('an event evaluated again writes its untriggered record once; the same event id a day later writes another', async () => {
  const event: PushEventJob = {
    eventId: 'evt-again',
    namespace: NS,
    repository: 'other',
    tag: 'v1',
    digest: `sha256:${'0'.repeat(64)}`,
    pushedAt: Date.UTC(2026, 10, 26),
    receivedAt: Date.UTC(2026, 10, 26),
  };
  const untriggered = async () =>
    (await records.list({ namespace: NS, scope: { repository: 'other', triggerId: 't2' }, limit: 200 }))
      .records;
  // The processor reads nothing but the job's data.
  const job = (data: PushEventJob) => ({ data }) as Job<PushEventJob>;
  await evaluate(job(event));
  await evaluate(job(event));
  expect(await untriggered()).toHaveLength(1);
  await evaluate(job({ ...event, receivedAt: event.receivedAt + 24 * 3600 * 1000 + 1 }));
  expect((await untriggered()).map((record) => `${record.eventId} ${record.status}`)).toEqual([
    'evt-again untriggered',
    'evt-again untriggered',
  ]);
});
