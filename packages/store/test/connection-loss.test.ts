// A connection lost in the middle of a pipeline (BullMQ's addBulk, a MULTI) must read as
// "Redis unavailable" (the api answers 503 with Retry-After), not as a bug (500).
import { type RedisHandle, startRedis } from '@registry-triggers/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, isRedisUnavailable } from '../src/connection.js';

describe('isRedisUnavailable', () => {
  let server: RedisHandle;
  beforeAll(async () => {
    server = await startRedis({ outage: true });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('a pipeline cut after its first reply fails as unavailable', async () => {
    // The api's kind of connection: no offline queue, commands time out.
    const redis = createRedis(
      { REDIS_URL: server.url },
      { role: 'fail-fast', name: 'cut-pipeline', commandTimeoutMs: 2000 },
    );
    const killer = new Redis(server.url);
    try {
      await new Promise((resolve) => redis.once('ready', resolve));
      const id = await redis.client('ID');
      // The SET answers, the BLPOP blocks on an empty list while this client is killed: the
      // rest of the pipeline is neither answered nor safe to send again.
      const cut = redis.pipeline().set('cut:a', '1').blpop('cut:empty', 1).get('cut:a').exec();
      setTimeout(() => void killer.client('KILL', 'ID', String(id)), 100);
      const failure = await cut.then(
        (results) => results?.find(([error]) => error)?.[0],
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(Error);
      expect(isRedisUnavailable(failure)).toBe(true);
    } finally {
      killer.disconnect();
      redis.disconnect();
    }
  });

  it('a bug is not unavailability', () => {
    expect(isRedisUnavailable(new Error('ERR wrong number of arguments for command'))).toBe(false);
    expect(isRedisUnavailable(new TypeError('x is undefined'))).toBe(false);
  });
});
