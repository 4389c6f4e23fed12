/**
 * DELIVERY_MIN_REPLICAS on one server with a replica: a delivery goes out only once its claim
 * is on a replica. With the replica detached, an accepted event waits (no request, no record);
 * once the replica is back it is delivered, once.
 */
import {
  attachReplica,
  type Receiver,
  type RedisHandle,
  redisCommand,
  redisInfo,
  startApp,
  startAppOnFreePort,
  startReceiver,
  startRedis,
  waitFor,
} from '@registry-triggers/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_TOKEN, INGEST_TOKEN, type Stack, startStack } from './support/stack.js';
import { metricSum, metricsUrlOf, scrapeMetrics, waitForIdleQueues } from './support/worker-kit.js';

const DIGEST = 'sha256:457f4aa83fc9a6663ab9d1b0a6e2dce25a12a943ed5bf2c1747c58d48bbb4917';
const NS = 'replicated';
const REPO = 'app';

let master: RedisHandle;
let replica: RedisHandle;
let stack: Stack;
let receiver: Receiver;

async function connectedReplicas(): Promise<number> {
  return Number((await redisInfo(master.host, master.port, ['INFO', 'replication'])).get('connected_slaves'));
}

async function detachReplica(): Promise<void> {
  await redisCommand(replica.host, replica.port, ['REPLICAOF', 'NO', 'ONE']);
  await waitFor(async () => (await connectedReplicas()) === 0, {
    timeoutMs: 10_000,
    message: 'the master without replicas',
  });
}

beforeAll(async () => {
  // Local binaries: the test attaches and detaches the replica itself.
  [master, replica] = await Promise.all([startRedis({ outage: true }), startRedis({ outage: true })]);
  await attachReplica(replica, master);
  receiver = await startReceiver();
  stack = await startStack({ redis: master, workerEnv: { DELIVERY_MIN_REPLICAS: '1' } });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
  await Promise.all([master?.stop(), replica?.stop()]);
});

const push = (tag: string) => stack.push({ namespace: NS, repository: REPO, tag, digest: DIGEST });
const tagOf = (body: string) => JSON.parse(body).push_data.tag as string;

it('delivers once a replica holds the claim, and holds the delivery while none does', async () => {
  const trigger = await stack.createTrigger(NS, REPO, { name: 'all', url: receiver.url, type: 'ALL' });

  expect((await push('with-replica')).status).toBe(202);
  const [first] = await receiver.waitForRequests(1, 20_000);
  expect(tagOf(first!.body)).toBe('with-replica');

  await detachReplica();
  const metricsUrl = metricsUrlOf(stack.workers[0]!);
  const unreplicated = async () =>
    metricSum(await scrapeMetrics(metricsUrl), 'delivery_postponed_total', { reason: 'unreplicated' });
  const heldBefore = await unreplicated();
  expect((await push('without-replica')).status).toBe(202);
  // Each try waits out the WAIT (400 ms) and is postponed by a second: held twice, as the
  // worker counts it, is the delivery seen waiting (not yet taken, or lost).
  await waitFor(async () => (await unreplicated()) >= heldBefore + 2, {
    timeoutMs: 20_000,
    intervalMs: 100,
    message: 'the delivery postponed twice for want of a replica',
  });
  expect(receiver.requests).toHaveLength(1);
  expect(await stack.records(NS, REPO, trigger.id, 1)).toHaveLength(1);

  await attachReplica(replica, master);
  const both = await receiver.waitForRequests(2, 20_000);
  expect(both.map((request) => tagOf(request.body))).toEqual(['with-replica', 'without-replica']);
  const records = await stack.records(NS, REPO, trigger.id, 2);
  expect(
    records.map((record: { tag: string; status: string }) => `${record.tag} ${record.status}`).sort(),
  ).toEqual(['with-replica succeeded', 'without-replica succeeded']);
  // Nothing more comes: the postponed tries sent nothing, and no job is left to send anything.
  await waitForIdleQueues(metricsUrl);
  expect(receiver.requests).toHaveLength(2);
}, 90_000);

it('an app asked to wait for more replicas than its server has says so as it starts', async () => {
  // The stack's worker waits for one replica and its server has one: no warning.
  expect(stack.workers[0]!.output().join('\n')).not.toContain('fewer replicas');

  const lone = await startRedis({ outage: true });
  const env = {
    REDIS_URL: lone.url,
    ADMIN_TOKEN,
    INGEST_TOKEN,
    INGEST_MIN_REPLICAS: '1',
    DELIVERY_MIN_REPLICAS: '1',
    LOG_LEVEL: 'warn',
  };
  const apps = await Promise.all([
    startAppOnFreePort({
      name: 'api',
      env,
      portSetting: 'API_PORT',
      readyUrl: (port) => `http://127.0.0.1:${port}/readyz`,
    }).then(({ app }) => app),
    startApp({ name: 'worker', env, readyLine: /fewer replicas than DELIVERY_MIN_REPLICAS/ }),
  ]);
  try {
    expect(apps[0]!.output().join('\n')).toContain('fewer replicas than INGEST_MIN_REPLICAS');
  } finally {
    await Promise.all(apps.map((app) => app.stop()));
    await lone.stop();
  }
}, 60_000);
