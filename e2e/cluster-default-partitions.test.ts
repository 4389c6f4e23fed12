/**
 * A user who starts on a Redis Cluster with REDIS_CLUSTER_NODES only (no QUEUE_PARTITIONS):
 * the api and the worker derive one partition per master, record it, and the work of many
 * repositories reaches every master; /readyz says how many partitions and masters there are,
 * and a worker started with another count is told so.
 */

import { createRedis, partitionFor } from '@registry-triggers/store';
import { getFreePorts, type Receiver, startReceiver, waitFor } from '@registry-triggers/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ClusterStack, startClusterStack } from './support/cluster-stack.js';
import type { Json } from './support/stack.js';

const HOST = '127.0.0.1';
const NAMESPACE = 'spread';
const REPOSITORIES = Array.from({ length: 24 }, (_, i) => `repo-${i}`);
const DIGEST = 'sha256:457f4aa83fc9a6663ab9d1b0a6e2dce25a12a943ed5bf2c1747c58d48bbb4917';

let stack: ClusterStack;
let receiver: Receiver;
let workerMetricsPort: number;

beforeAll(async () => {
  receiver = await startReceiver();
  [workerMetricsPort] = (await getFreePorts(1)) as [number];
  stack = await startClusterStack({
    partitions: 'unset',
    workerEnv: { WORKER_METRICS_PORT: String(workerMetricsPort) },
  });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
});

const readyz = async (url: string): Promise<{ status: number; body: Json }> => {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: await response.json() };
};

const masterPorts = () =>
  stack.cluster.nodes.filter((node) => node.role === 'master').map((node) => node.port);

it('spreads the work of many repositories over every master without QUEUE_PARTITIONS', async () => {
  expect(stack.partitions).toBe(3);
  // The repositories fall on every partition, so every master has work to get.
  expect(new Set(REPOSITORIES.map((repo) => partitionFor(NAMESPACE, repo, 3)))).toEqual(new Set([0, 1, 2]));
  for (const repo of REPOSITORIES) {
    expect(
      (await stack.call('PUT', `/v1/namespaces/${NAMESPACE}/repositories/${repo}`, { repoType: 'PUBLIC' }))
        .status,
    ).toBe(201);
    await stack.createTrigger(NAMESPACE, repo, { name: 'all', url: receiver.url, type: 'ALL' });
  }
  const pushed = await stack.push(
    REPOSITORIES.map((repository, i) => ({
      namespace: NAMESPACE,
      repository,
      tag: 'v1',
      digest: DIGEST,
      pushedAt: '2026-12-03T10:00:00Z',
      eventId: `evt-spread-${i}`,
    })),
  );
  expect(pushed.status).toBe(202);
  await waitFor(() => receiver.requests.length >= REPOSITORIES.length, {
    timeoutMs: 30_000,
    message: `${REPOSITORIES.length} deliveries`,
  });
  const delivered = new Set(receiver.requests.map((request) => JSON.parse(request.body).repository.name));
  expect(delivered.size).toBe(REPOSITORIES.length);

  // Every master holds queue keys and completed deliveries of its own partition.
  const masters = masterPorts();
  expect(masters).toHaveLength(3);
  for (const port of masters) {
    // A plain client of that one node: KEYS answers that master's keys only.
    const node = createRedis({ REDIS_URL: `redis://${HOST}:${port}` }, { role: 'worker', name: 'e2e-node' });
    try {
      const completed = await node.keys('rt:{q:deliveries:*}:deliveries:completed');
      expect(completed, `master ${port} holds a deliveries partition`).toHaveLength(1);
      expect(await node.zcard(completed[0]!), `deliveries completed on ${port}`).toBeGreaterThan(0);
    } finally {
      node.disconnect();
    }
  }
});

it('says how many partitions and masters it found, in /readyz and the log', async () => {
  // The api and the worker start at once: the first derives the count from the masters and
  // records it, the other finds it recorded (or derives the same and loses the SET NX).
  const sources = [];
  for (const url of [stack.apiUrl, `http://${HOST}:${workerMetricsPort}`]) {
    const ready = await readyz(url);
    expect(ready.status).toBe(200);
    expect(ready.body.queues).toEqual({
      partitions: 3,
      source: expect.stringMatching(/^(masters|recorded)$/),
      masters: 3,
      mastersWithPartitions: 3,
    });
    expect(ready.body.warnings).toBeUndefined();
    sources.push(ready.body.queues.source);
  }
  expect(sources).toContain('masters');
  const started = stack.workers[0]!.output().find((line) => line.includes('worker started'));
  expect(started).toMatch(/"partitions":3/);
  expect(started).toMatch(/"masters":3/);
});

it('warns a worker started with another QUEUE_PARTITIONS, in its log and its /readyz', async () => {
  const [port] = (await getFreePorts(1)) as [number];
  const odd = await stack.startWorker({ QUEUE_PARTITIONS: '2', WORKER_METRICS_PORT: String(port) });
  expect(odd.output().join('\n')).toMatch(/QUEUE_PARTITIONS=2 differs from the cluster's recorded 3/);
  const ready = await readyz(`http://${HOST}:${port}`);
  expect(ready.body.queues).toMatchObject({
    partitions: 2,
    recorded: 3,
    masters: 3,
    mastersWithPartitions: 2,
  });
  expect(ready.body.warnings).toEqual([
    expect.stringMatching(/uses 2 queue partitions, the cluster's record says 3/),
    expect.stringMatching(/1 of 3 masters hold no queue partition/),
  ]);
  // The api's record is untouched by a worker: it still places events on 3 partitions.
  expect((await readyz(stack.apiUrl)).body.queues.partitions).toBe(3);
});
