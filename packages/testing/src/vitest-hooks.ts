// Suite-level wiring for vitest: start in beforeAll, stop in afterAll, even when a test fails.
import { afterAll, beforeAll } from 'vitest';
import { type RedisHandle, type StartRedisOptions, startRedis } from './redis-server.js';

/**
 * Starts a Redis server for the enclosing suite and returns a getter for it (the server
 * only exists once beforeAll has run).
 */
export function useRedis(options: StartRedisOptions = {}): () => RedisHandle {
  let handle: RedisHandle | undefined;
  beforeAll(async () => {
    handle = await startRedis(options);
  });
  afterAll(async () => {
    await handle?.stop();
  });
  return () => {
    if (!handle) throw new Error('useRedis(): the server starts in beforeAll; read it inside a test or hook');
    return handle;
  };
}
