// The commands a process sends in one turn of the event loop reach Redis in one read
// (write-batching.ts), with the same replies in the same order, on every connection the
// client makes.
import { type RedisHandle, startRedis, startRedisCluster, waitFor } from '@registry-triggers/testing';
import { type Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRedis } from '../src/connection.js';

let server: RedisHandle;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server.stop();
});

const COMMANDS = 200;

/** Reads Redis made while `turn` ran, and its replies. */
async function readsDuring<T>(
  observer: Redis,
  turn: () => Promise<T>,
): Promise<{ reads: number; replies: T }> {
  const readsNow = async () => Number(/total_reads_processed:(\d+)/.exec(await observer.info('stats'))?.[1]);
  const before = await readsNow();
  const replies = await turn();
  // The observer's own INFO is one read, and so is the one before.
  return { reads: (await readsNow()) - before - 1, replies };
}

function manyCommands(redis: Redis | Cluster) {
  return () =>
    Promise.all(
      Array.from({ length: COMMANDS }, (_, n) =>
        // One hash tag: on a cluster, all on one master.
        n % 2 === 0 ? redis.set(`{batch}:${n}`, String(n)) : redis.incrby('{batch}:counter', n),
      ),
    );
}

it('sends the commands of one turn in one write, answering each as before', async () => {
  const observer = new Redis(server.url);
  const batched = createRedis({ REDIS_URL: server.url }, { role: 'worker', name: 'batched' }) as Redis;
  try {
    await batched.ping();
    const { reads, replies } = await readsDuring(observer, manyCommands(batched));
    expect(replies.filter((_, n) => n % 2 === 0)).toEqual(Array(COMMANDS / 2).fill('OK'));
    // INCRBY's running totals: the commands ran in the order they were called.
    let total = 0;
    expect(replies.filter((_, n) => n % 2 === 1)).toEqual(
      Array.from({ length: COMMANDS / 2 }, (_, i) => (total += 2 * i + 1)),
    );
    // One write of a few kilobytes; Redis may need a second read for the tail of it.
    expect(reads).toBeLessThanOrEqual(3);
    // For scale: a plain client writes each command as it is called.
    const plain = new Redis(server.url);
    await plain.ping();
    const unbatched = await readsDuring(observer, manyCommands(plain));
    plain.disconnect();
    console.info(`${COMMANDS} commands in one turn: ${reads} reads batched, ${unbatched.reads} plain`);
  } finally {
    observer.disconnect();
    batched.disconnect();
  }
});

it('batches again after a reconnection, and a later turn is sent on its own', async () => {
  const observer = new Redis(server.url);
  const batched = createRedis({ REDIS_URL: server.url }, { role: 'worker', name: 'reconnecting' }) as Redis;
  try {
    const firstId = await batched.client('ID');
    await observer.client('KILL', 'ID', String(firstId));
    await waitFor(async () => (await batched.client('ID').catch(() => firstId)) !== firstId, {
      message: 'the client reconnected',
    });
    const { reads } = await readsDuring(observer, manyCommands(batched));
    expect(reads).toBeLessThanOrEqual(3);
    // Nothing waits for a later turn: a lone command in its own turn is answered.
    await expect(batched.get('{batch}:0')).resolves.toBe('0');
  } finally {
    observer.disconnect();
    batched.disconnect();
  }
});

it('batches on every master of a Redis Cluster, nodes found later included', async () => {
  const cluster = await startRedisCluster();
  const batched = createRedis(
    { REDIS_URL: 'redis://unused:6379', REDIS_CLUSTER_NODES: cluster.seeds },
    { role: 'worker', name: 'batched-cluster' },
  ) as Cluster;
  try {
    // The slot's master, asked directly (the client's nodes are connected on its first command).
    await batched.set('{batch}:first', '1');
    const slot = Number(await batched.cluster('KEYSLOT', '{batch}'));
    const slots = await batched.cluster('SLOTS');
    const range = slots.find(([from, to]) => from <= slot && slot <= to);
    if (!range?.[2]) throw new Error(`no master owns slot ${slot}`);
    const [host, port] = range[2];
    const observer = new Redis({ host, port });
    try {
      const { reads, replies } = await readsDuring(observer, manyCommands(batched));
      expect(replies).toHaveLength(COMMANDS);
      expect(reads).toBeLessThanOrEqual(3);
    } finally {
      observer.disconnect();
    }
  } finally {
    batched.disconnect();
    await cluster.stop();
  }
});
