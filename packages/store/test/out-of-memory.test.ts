// A Redis at `maxmemory` with `noeviction` refuses writes, as plain commands and inside the
// scripts BullMQ runs: both must read as that passing state (the api answers 503
// storage-full, the worker tries again), not as a bug (a 500, a job failed for good).
import { type RedisHandle, startRedis } from '@registry-triggers/testing';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, isRedisOutOfMemory, isRedisUnavailable } from '../src/connection.js';

describe('isRedisOutOfMemory', () => {
  let server: RedisHandle;
  beforeAll(async () => {
    server = await startRedis({ outage: true });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('reads the refusal of a command and of a script as out of memory', async () => {
    const redis = createRedis(
      { REDIS_URL: server.url },
      { role: 'fail-fast', name: 'out-of-memory', commandTimeoutMs: 2000 },
    );
    const queue = new Queue('oom', { connection: redis });
    try {
      await queue.add('warm', {});
      await redis.config('SET', 'maxmemory-policy', 'noeviction');
      await redis.config('SET', 'maxmemory', '1');
      const refusals = [
        await redis.set('oom:a', '1').catch((error: unknown) => error),
        await queue.add('refused', { big: 'x'.repeat(1000) }).catch((error: unknown) => error),
      ];
      for (const refusal of refusals) {
        expect(refusal).toBeInstanceOf(Error);
        expect(isRedisOutOfMemory(refusal)).toBe(true);
      }
      expect(await queue.count()).toBe(1);
    } finally {
      await redis.config('SET', 'maxmemory', '0');
      await queue.close();
      redis.disconnect();
    }
  });

  it('a bug or an outage is not out of memory', () => {
    expect(isRedisOutOfMemory(new Error('ERR wrong number of arguments for command'))).toBe(false);
    const outage = new Error('connect ECONNREFUSED 127.0.0.1:6380');
    expect(isRedisUnavailable(outage)).toBe(true);
    expect(isRedisOutOfMemory(outage)).toBe(false);
  });
});
