/**
 * The product on a Redis Cluster (3 masters, 3 replicas), as a user runs it: the api,
 * worker and logs apps with REDIS_CLUSTER_NODES and three queue partitions. The thin path
 * end to end (trigger, push, exact payload at a receiver, record in the logs app, live
 * tail, a duplicate event id delivered once), the trigger test that waits on queue events,
 * and where the partitions actually live.
 */
import { partitionFor, queueNames } from '@registry-triggers/store';
import { type Receiver, startReceiver, waitFor } from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterStack, startClusterStack } from './support/cluster-stack.js';
import { ADMIN_TOKEN } from './support/stack.js';

const DIGEST = 'sha256:457f4aa83fc9a6663ab9d1b0a6e2dce25a12a943ed5bf2c1747c58d48bbb4917';
const PARTITIONS = 3;

/** `YYYY-MM-DD HH:mm:ss` in Asia/Shanghai, the stack's PAYLOAD_TIMEZONE here. */
const shanghai = (epochMs: number) =>
  new Intl.DateTimeFormat('sv-SE', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(epochMs));

/** Server-sent records of a namespace's live tail, collected until close(). */
async function followRecords(stack: ClusterStack, namespace: string) {
  const controller = new AbortController();
  const response = await fetch(`${stack.logsUrl}/v1/namespaces/${namespace}/records/stream`, {
    headers: { accept: 'text/event-stream', authorization: `Bearer ${ADMIN_TOKEN}` },
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  const records: Array<{ id: string; eventId: string; status: string }> = [];
  let following = false;
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  void (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        const blocks = buffer.split('\n\n');
        buffer = blocks.pop()!;
        for (const block of blocks) {
          if (block.includes(': following')) following = true;
          const data = block.split('\n').find((line) => line.startsWith('data: '));
          if (data) records.push(JSON.parse(data.slice('data: '.length)));
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  // The server has fixed its position once it says so: later records are ours.
  await waitFor(() => following, { message: 'the live tail to start' });
  return { records, close: () => controller.abort() };
}

describe('the product on a Redis Cluster', () => {
  let stack: ClusterStack;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await startReceiver();
    stack = await startClusterStack({
      partitions: PARTITIONS,
      env: { REGION: 'cn-hangzhou', PAYLOAD_TIMEZONE: 'Asia/Shanghai' },
    });
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  it('puts each partition on its own master, both queues of a partition on one slot', async () => {
    const pushEvents = await stack.partitionOwners(queueNames.pushEvents);
    const deliveries = await stack.partitionOwners(queueNames.deliveries);
    const masters = stack.cluster.nodes.filter((node) => node.role === 'master').map((node) => node.port);
    expect(masters).toHaveLength(3);
    expect(new Set(pushEvents.map((owner) => owner.port))).toEqual(new Set(masters));
    expect(deliveries).toEqual(pushEvents);
  });

  it('answers its health checks', async () => {
    for (const url of [stack.apiUrl, stack.logsUrl]) {
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(200);
    }
  });

  it('delivers the exact Alibaba payload, logs it and tails it live', async () => {
    const repo = await stack.call('PUT', '/v1/namespaces/namespace/repositories/repo-test', {
      repoType: 'PUBLIC',
    });
    expect(repo.status).toBe(201);
    const trigger = await stack.createTrigger('namespace', 'repo-test', {
      name: 'redeploy',
      url: `${receiver.url}?secret=s3cr3t`,
      type: 'ALL',
    });
    const live = await followRecords(stack, 'namespace');
    try {
      const before = receiver.requests.length;
      const pushed = await stack.push({
        namespace: 'namespace',
        repository: 'repo-test',
        tag: 'latest',
        digest: DIGEST,
        pushedAt: '2016-11-29T04:25:46Z',
        eventId: 'evt-cluster-1',
      });
      expect(pushed.status).toBe(202);
      expect(pushed.body).toEqual({ accepted: 1, duplicates: 0, eventIds: ['evt-cluster-1'] });

      const received = (await receiver.waitForRequests(before + 1, 20_000))[before]!;
      expect(received.url).toBe('/hook?secret=s3cr3t');
      expect(received.headers['content-type']).toBe('application/json');
      expect(received.body).toBe(
        `{"push_data":{"digest":"${DIGEST}","pushed_at":"2016-11-29 12:25:46","tag":"latest"},` +
          `"repository":{"date_created":"${shanghai(repo.body.createdAt)}","name":"repo-test","namespace":"namespace",` +
          `"region":"cn-hangzhou","repo_authentication_type":"NO_CERTIFIED","repo_full_name":"namespace/repo-test",` +
          `"repo_origin_type":"NO_CERTIFIED","repo_type":"PUBLIC"}}`,
      );

      const [record] = await stack.records('namespace', 'repo-test', trigger.id, 1);
      expect(record).toMatchObject({
        triggerId: trigger.id,
        triggerUrl: `${receiver.url}?secret=***`,
        eventId: 'evt-cluster-1',
        deliveryId: received.headers['webhook-id'],
        status: 'succeeded',
        statusCode: '200',
        attempt: 1,
        requestBody: received.body,
      });
      const one = await stack.logsCall(`/v1/namespaces/namespace/records/${record.id}`);
      expect(one.body).toEqual(record);
      await waitFor(() => live.records.some((tailed) => tailed.id === record.id), {
        timeoutMs: 20_000,
        message: 'the record on the live tail',
      });
    } finally {
      live.close();
    }
  });

  it('answers a repeated event id as a duplicate and delivers it once', async () => {
    const before = receiver.requests.length;
    const event = {
      namespace: 'namespace',
      repository: 'repo-test',
      tag: 'v2',
      digest: DIGEST,
      eventId: 'evt-dup',
    };
    const first = await stack.push(event);
    const again = await stack.push([event, event]);
    expect(first.body).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 2 });
    await receiver.waitForRequests(before + 1, 20_000);
    // A later event on the same partition arrives after the single delivery of the duplicate one.
    await stack.push({ ...event, eventId: 'evt-after-dup', tag: 'v3' });
    const all = await receiver.waitForRequests(before + 2, 20_000);
    const tags = all.slice(before).map((request) => JSON.parse(request.body).push_data.tag);
    expect(tags.sort()).toEqual(['v2', 'v3']);
    await stack.waitForIdleQueues();
    expect(receiver.requests).toHaveLength(before + 2);
  });

  it('sends a test delivery and answers with its record (queue events on the cluster)', async () => {
    const trigger = await stack.createTrigger('namespace', 'repo-test', {
      name: 'tested',
      url: `${receiver.origin}/tested`,
      type: 'TAG_LIST',
      tags: ['never-pushed'],
    });
    const tested = await stack.call(
      'POST',
      `/v1/namespaces/namespace/repositories/repo-test/triggers/${trigger.id}/test`,
    );
    expect(tested.status).toBe(200);
    expect(tested.body).toMatchObject({ triggerId: trigger.id, tag: 'test', status: 'succeeded' });
    expect(receiver.requests.filter((request) => request.url === '/tested')).toHaveLength(1);
  });

  it('delivers pushes of repositories on every partition, each on its own master', async () => {
    // One repository per partition: the first names that land on each.
    const repositories = new Map<number, string>();
    for (let i = 0; repositories.size < PARTITIONS; i++) {
      const partition = partitionFor('spread', `app-${i}`, PARTITIONS);
      if (!repositories.has(partition)) repositories.set(partition, `app-${i}`);
    }
    for (const repository of repositories.values()) {
      await stack.createTrigger('spread', repository, {
        name: 'all',
        url: `${receiver.origin}/spread/${repository}`,
        type: 'ALL',
      });
    }
    const pushed = await stack.push(
      [...repositories.values()].map((repository, i) => ({
        namespace: 'spread',
        repository,
        tag: 'latest',
        digest: DIGEST,
        eventId: `evt-spread-${i}`,
      })),
    );
    expect(pushed.body).toMatchObject({ accepted: PARTITIONS, duplicates: 0 });
    const paths = [...repositories.values()].map((repository) => `/spread/${repository}`).sort();
    await waitFor(
      () => receiver.requests.filter((request) => request.url.startsWith('/spread/')).length >= PARTITIONS,
      { timeoutMs: 20_000, message: 'one delivery per partition' },
    );
    expect(
      receiver.requests
        .filter((request) => request.url.startsWith('/spread/'))
        .map((request) => request.url)
        .sort(),
    ).toEqual(paths);
  });
});
