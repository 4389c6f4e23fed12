import {
  createRedis,
  type DeliveryJob,
  deliveryJobOptions,
  PartitionedQueue,
  queueNames,
  type RedisConnection,
  TriggerStore,
} from '@registry-triggers/store';
import {
  type Receiver,
  type RedisHandle,
  sleep,
  startReceiver,
  startRedis,
  waitFor,
} from '@registry-triggers/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OriginGuard } from '../src/origin-guard.js';
import { testWorkerRuntime } from './support/worker-runtime.js';

const NS = 'tests';
const REPO = 'app';
const ORIGIN_LIMIT = 2;
const COOLDOWN_MS = 1500;

let redisServer: RedisHandle;
let redis: RedisConnection;
let receiver: Receiver;
let deliveries: PartitionedQueue<DeliveryJob>;
let runtime: ReturnType<typeof testWorkerRuntime>;
let guard: OriginGuard;
let inFlight = 0;
let mostInFlight = 0;

beforeAll(async () => {
  redisServer = await startRedis();
  redis = createRedis({ REDIS_URL: redisServer.url }, { role: 'worker' });
  receiver = await startReceiver();
  receiver.respondWith(async () => {
    inFlight++;
    mostInFlight = Math.max(mostInFlight, inFlight);
    // Slow enough that the tests added together would overlap without a limit.
    await sleep(150);
    inFlight--;
    return { status: 200 };
  });
  const triggers = new TriggerStore(redis);
  for (const [id, url] of [
    ['slow', receiver.url],
    ['down', `${receiver.origin}/down`],
  ] as const) {
    await triggers.create(
      {
        id,
        namespace: NS,
        repository: REPO,
        name: id,
        url,
        type: 'ALL',
        enabled: true,
        createdAt: 1,
        updatedAt: 1,
      },
      { triggersPerRepository: 10, triggersPerNamespace: 10 },
    );
  }
  deliveries = new PartitionedQueue<DeliveryJob>(queueNames.deliveries, 1, redis);
  guard = new OriginGuard({
    maxInFlight: ORIGIN_LIMIT,
    initialInFlight: ORIGIN_LIMIT,
    failureThreshold: 2,
    baseCooldownMs: COOLDOWN_MS,
  });
  runtime = testWorkerRuntime(redis, { WORKER_CONCURRENCY: '20' }, { guard });
  runtime.start();
}, 60_000);

afterAll(async () => {
  await runtime?.close();
  await deliveries?.close();
  await receiver?.close();
  await redis?.quit();
  await redisServer?.stop();
});

/** A test delivery as the api adds it (delivery-requests.ts). */
async function addTest(triggerId: string, n: number): Promise<string> {
  const deliveryId = `msg_test_${triggerId}_${n}`;
  await deliveries.partitions[0]!.add(
    'test',
    {
      deliveryId,
      eventId: `test-${deliveryId}`,
      namespace: NS,
      repository: REPO,
      triggerId,
      tag: 'test',
      digest: `sha256:${'0'.repeat(64)}`,
      pushedAt: Date.now(),
      singleAttempt: true,
    },
    { ...deliveryJobOptions(1), jobId: deliveryId },
  );
  return deliveryId;
}

it('many test deliveries at once stay within the per-origin in-flight limit, and every one is sent', async () => {
  const count = 8;
  for (let n = 0; n < count; n++) await addTest('slow', n);
  await receiver.waitForRequests(count, 30_000);
  expect(mostInFlight).toBeLessThanOrEqual(ORIGIN_LIMIT);
  expect(new Set(receiver.requests.map((request) => request.headers['webhook-id'])).size).toBe(count);
  // Every job ends once its record is written, and frees its slot of the origin.
  await waitFor(async () => (await deliveries.partitions[0]!.getCompletedCount()) === count, {
    message: 'every test delivery to complete',
  });
});

it('a test delivery to an endpoint whose circuit is open waits for the cooldown instead of being sent', async () => {
  const endpoint = `${receiver.origin}/down`;
  // Two unreachable attempts in a row open the endpoint's circuit (failureThreshold 2).
  for (let i = 0; i < 2; i++) {
    const admission = guard.admit(endpoint);
    if (!admission.admitted) throw new Error('the guard should admit a first attempt');
    admission.release('unreachable');
  }
  expect(guard.stateOf(endpoint)).toBe('open');
  const openedAt = Date.now();
  const sentBefore = receiver.requests.length;
  const deliveryId = await addTest('down', 0);
  const job = await waitFor(
    async () => {
      const state = await deliveries.partitions[0]!.getJobState(deliveryId);
      return state === 'delayed' || state === 'completed' ? state : undefined;
    },
    { message: 'the test delivery to be taken' },
  );
  expect(job).toBe('delayed');
  expect(receiver.requests.slice(sentBefore).some((request) => request.url === '/down')).toBe(false);
  // Once the cooldown is over it is the probe that finds the endpoint back.
  const [probe] = (await receiver.waitForRequests(sentBefore + 1, 30_000)).slice(sentBefore);
  expect(probe!.url).toBe('/down');
  expect(Date.now() - openedAt).toBeGreaterThanOrEqual(COOLDOWN_MS - 100);
  await waitFor(() => guard.stateOf(endpoint) === 'closed', {
    message: 'the answered probe to close the circuit',
  });
});
