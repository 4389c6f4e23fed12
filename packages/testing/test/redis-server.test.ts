import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { type RedisHandle, redisCommand, startRedis, uniqueName, useRedis } from '../src/index.js';

function client(handle: RedisHandle): Redis {
  // No retries: a test about an outage must see the outage, not wait it out.
  return new Redis(handle.url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
}

async function refused(handle: RedisHandle): Promise<boolean> {
  return redisCommand(handle.host, handle.port, ['PING'], 1000).then(
    () => false,
    (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED',
  );
}

describe('useRedis', () => {
  const redis = useRedis();

  it('gives the suite a server that answers', async () => {
    const connection = client(redis());
    try {
      const key = `${uniqueName()}:greeting`;
      await connection.set(key, 'hello');
      expect(await connection.get(key)).toBe('hello');
      expect(['container', 'local', 'external']).toContain(redis().kind);
    } finally {
      connection.disconnect();
    }
  });
});

describe('startRedis({ outage: true })', () => {
  const handles: RedisHandle[] = [];
  afterEach(async () => {
    await Promise.all(handles.splice(0).map((handle) => handle.stop()));
  });

  it('runs its own redis-server that stops, starts again on the same port and restarts', async () => {
    const handle = await startRedis({ outage: true });
    handles.push(handle);
    expect(handle.kind).toBe('local');
    expect(handle.url).toBe(`redis://127.0.0.1:${handle.port}`);
    expect(await redisCommand(handle.host, handle.port, ['PING'])).toBe('PONG');

    await handle.stop();
    expect(await refused(handle)).toBe(true);
    await handle.start?.();
    expect(await redisCommand(handle.host, handle.port, ['PING'])).toBe('PONG');

    await handle.restart?.();
    expect(await redisCommand(handle.host, handle.port, ['PING'])).toBe('PONG');
  });

  it('kill() makes the server vanish and a non-persistent one comes back empty', async () => {
    const handle = await startRedis({ outage: true });
    handles.push(handle);
    await redisCommand(handle.host, handle.port, ['SET', 'k', 'v']);
    await handle.kill?.();
    expect(await refused(handle)).toBe(true);
    await handle.start?.();
    expect(await redisCommand(handle.host, handle.port, ['GET', 'k'])).toBeNull();
  });

  it('keeps acknowledged writes across a SIGKILL when persistent', async () => {
    const handle = await startRedis({ outage: true, persistent: true });
    handles.push(handle);
    const connection = client(handle);
    try {
      await connection.set('survives', 'yes');
      await handle.kill?.();
      await expect(connection.get('survives')).rejects.toThrow();
      await handle.start?.();
      expect(await redisCommand(handle.host, handle.port, ['GET', 'survives'])).toBe('yes');
    } finally {
      connection.disconnect();
    }
  });

  it('gives each call its own server', async () => {
    const [a, b] = await Promise.all([startRedis({ outage: true }), startRedis({ outage: true })]);
    handles.push(a, b);
    expect(a.port).not.toBe(b.port);
  });
});
