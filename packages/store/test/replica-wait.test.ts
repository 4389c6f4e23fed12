// Waiting for replicas (durability.ts) without stalling the connection the writes share:
// while a WAIT is out, every other command to that master answers at once; writers that
// finish meanwhile share the next WAIT; a WAIT whose connection is lost fails as "Redis
// unavailable"; the connection it goes out on closes with the client.
import {
  type ClusterHandle,
  type RedisHandle,
  redisCommand,
  startRedis,
  startRedisCluster,
  uniqueName,
  waitFor,
} from '@registry-triggers/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConnectionRole,
  createRedis,
  isRedisUnavailable,
  type RedisConnection,
} from '../src/connection.js';
import {
  ReplicationTimeoutError,
  ReplicaWait,
  replicaWaitOf,
  slotMaster,
  waitForReplicas,
} from '../src/durability.js';
import { keys } from '../src/keys.js';
import { queueNames } from '../src/queues.js';

/** Settles to how long it took and what it threw, so a test can look while it is still out. */
function track(promise: Promise<unknown>) {
  const started = performance.now();
  const state: { settled: boolean; ms?: number; error?: unknown } = { settled: false };
  const done = promise.then(
    () => {
      Object.assign(state, { settled: true, ms: performance.now() - started });
    },
    (error: unknown) => {
      Object.assign(state, { settled: true, ms: performance.now() - started, error });
    },
  );
  return { state, done };
}

/** A fail-fast client refuses commands until connected. */
async function ready<T extends RedisConnection>(redis: T): Promise<T> {
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  return redis;
}

/** Connections of `name` the server at host:port holds now (CLIENT LIST). */
async function connectionsNamed(host: string, port: number, name: string): Promise<number> {
  const list = String(await redisCommand(host, port, ['CLIENT', 'LIST']));
  return list.split('\n').filter((line) => line.includes(` name=${name} `)).length;
}

describe('on one server with no replica (INGEST_MIN_REPLICAS=1 and nothing to replicate to)', () => {
  let server: RedisHandle;
  let stats: Redis;

  beforeAll(async () => {
    server = await startRedis();
    stats = new Redis(server.url);
  });

  afterAll(async () => {
    stats?.disconnect();
    await server?.stop();
  });

  const waitCalls = async () => {
    const info = await stats.info('commandstats');
    return Number(/cmdstat_wait:calls=(\d+)/.exec(info)?.[1] ?? 0);
  };

  const connect = (role: ConnectionRole, name: string) =>
    ready(createRedis({ REDIS_URL: server.url }, { role, commandTimeoutMs: 1000, name }));

  it.each(['fail-fast', 'worker'] as const)(
    'answers other commands at once while the WAIT is out, then fails in its timeout (%s connection)',
    async (role) => {
      const redis = await connect(role, uniqueName('wait-test'));
      try {
        const key = `rt:{${uniqueName('ns')}}:event`;
        const wroteVia = slotMaster(redis, key) ?? null;
        await redis.set(key, 'written');
        const waiting = track(waitForReplicas(redis, key, 1, 300, wroteVia));

        // A request's read and a queue's write on the same connection, while the WAIT is out.
        const started = performance.now();
        expect(await redis.get(key)).toBe('written');
        await redis.set(`${key}:other`, 'x');
        const othersMs = performance.now() - started;
        expect(waiting.state.settled).toBe(false);
        expect(othersMs).toBeLessThan(100);

        await waiting.done;
        expect(waiting.state.error).toBeInstanceOf(ReplicationTimeoutError);
        expect((waiting.state.error as ReplicationTimeoutError).reached).toBe(0);
        expect(waiting.state.ms).toBeGreaterThanOrEqual(290);
      } finally {
        await redis.quit();
      }
    },
  );

  it('sends one WAIT for all the writers that finished while one was out', async () => {
    const redis = await connect('fail-fast', uniqueName('wait-test'));
    try {
      const key = (i: number) => `rt:{${uniqueName('ns')}}:event:${i}`;
      const before = await waitCalls();
      await redis.set(key(0), 'x');
      const first = track(waitForReplicas(redis, key(0), 1, 300));
      // Ten writers finish while the first WAIT is out: they share the second round.
      const later = Array.from({ length: 10 }, async (_, i) => {
        await redis.set(key(i + 1), 'x');
        return waitForReplicas(redis, key(i + 1), 1, 300);
      });
      const results = await Promise.allSettled(later);
      await first.done;
      expect(first.state.error).toBeInstanceOf(ReplicationTimeoutError);
      for (const result of results) {
        expect(result.status).toBe('rejected');
        expect((result as PromiseRejectedResult).reason).toBeInstanceOf(ReplicationTimeoutError);
      }
      expect((await waitCalls()) - before).toBe(2);
    } finally {
      await redis.quit();
    }
  });

  it('fails a wait whose connection is lost as "Redis unavailable" (503, not 500), and waits again on a new one', async () => {
    const name = uniqueName('wait-test');
    const redis = await connect('fail-fast', name);
    try {
      const key = `rt:{${uniqueName('ns')}}:event`;
      await redis.set(key, 'x');
      const waiting = track(waitForReplicas(redis, key, 1, 800));
      // The WAIT connection as the server lists it, blocked in WAIT: the master "dies" for it.
      const id = await waitFor(
        async () => {
          const list = String(await redisCommand(server.host, server.port, ['CLIENT', 'LIST']));
          const line = list
            .split('\n')
            .find((l) => l.includes(` name=${name}:wait `) && l.includes(' cmd=wait '));
          return line && /^id=(\d+) /.exec(line)?.[1];
        },
        { timeoutMs: 5000, message: `${name}:wait blocked in WAIT` },
      );
      await redisCommand(server.host, server.port, ['CLIENT', 'KILL', 'ID', id]);
      await waiting.done;
      expect(waiting.state.error).toBeInstanceOf(Error);
      expect(waiting.state.error).not.toBeInstanceOf(ReplicationTimeoutError);
      expect(isRedisUnavailable(waiting.state.error)).toBe(true);
      // The next round opens a new connection, fence first: no replica, so still no.
      await expect(waitForReplicas(redis, key, 1, 100)).rejects.toBeInstanceOf(ReplicationTimeoutError);
      expect(await connectionsNamed(server.host, server.port, `${name}:wait`)).toBe(1);
    } finally {
      await redis.quit();
    }
  });

  it('is one object per connection: its settings by default, the one of waitForReplicas shared', async () => {
    const name = uniqueName('wait-test');
    const redis = await connect('fail-fast', name);
    try {
      const key = `rt:{${uniqueName('ns')}}:event`;
      const wait = new ReplicaWait(redis, { replicas: 1, timeoutMs: 50 });
      const wroteVia = wait.slotMaster(key) ?? null;
      await redis.set(key, 'x');
      await expect(wait.wait(key, wroteVia)).rejects.toBeInstanceOf(ReplicationTimeoutError);
      // Nothing to wait for: answers at once, no WAIT sent.
      const before = await waitCalls();
      await new ReplicaWait(redis).wait(key);
      expect(await waitCalls()).toBe(before);
      // waitForReplicas goes through the connection's own ReplicaWait: one more side connection.
      expect(replicaWaitOf(redis)).toBe(replicaWaitOf(redis));
      await expect(waitForReplicas(redis, key, 1, 50)).rejects.toBeInstanceOf(ReplicationTimeoutError);
      expect(await connectionsNamed(server.host, server.port, `${name}:wait`)).toBe(2);
    } finally {
      await redis.quit();
    }
  });

  it('closes its WAIT connection when the client is closed', async () => {
    const name = uniqueName('wait-test');
    const redis = await connect('fail-fast', name);
    const key = `rt:{${uniqueName('ns')}}:event`;
    await redis.set(key, 'x');
    await expect(waitForReplicas(redis, key, 1, 50)).rejects.toBeInstanceOf(ReplicationTimeoutError);
    expect(await connectionsNamed(server.host, server.port, `${name}:wait`)).toBe(1);
    await redis.quit();
    await waitFor(async () => (await connectionsNamed(server.host, server.port, `${name}:wait`)) === 0, {
      timeoutMs: 5000,
      message: `no connection named ${name}:wait`,
    });
  });
});

describe('on a Redis Cluster (3 masters, 3 replicas)', () => {
  let cluster: ClusterHandle;

  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it("confirms writes once each slot master's replica holds them, on one WAIT connection per master, closed with the client", async () => {
    const name = uniqueName('wait-test');
    const redis = await ready(
      createRedis(
        { REDIS_URL: 'redis://unused:6379', REDIS_CLUSTER_NODES: cluster.seeds },
        { role: 'fail-fast', commandTimeoutMs: 1000, name },
      ),
    );
    const masters = () => cluster.nodes.filter((node) => node.role === 'master');
    const onMasters = async () =>
      Promise.all(masters().map((node) => connectionsNamed('127.0.0.1', node.port, `${name}:wait`)));
    try {
      // The three queue partitions (one on each master, slots.ts) and a few namespaces.
      const written = [
        ...[0, 1, 2].map(
          (partition) => `${keys.queuePrefix(queueNames.deliveries, partition)}:${queueNames.deliveries}:job`,
        ),
        ...Array.from({ length: 9 }, (_, i) => keys.recordLog(uniqueName(`tenant${i}`))),
      ];
      await Promise.all(
        written.map(async (key) => {
          const wroteVia = slotMaster(redis, key) ?? null;
          await redis.set(key, 'x');
          await waitForReplicas(redis, key, 1, 2000, wroteVia);
        }),
      );
      expect(await onMasters()).toEqual([1, 1, 1]);
    } finally {
      await redis.quit();
    }
    await waitFor(async () => (await onMasters()).every((count) => count === 0), {
      timeoutMs: 5000,
      message: `no connection named ${name}:wait on any master`,
    });
  });
});
