// Writing to the access log more than once for one write: a write retried after its reply
// was lost (as across a Redis failover) and an untriggered record written by every
// evaluation of an event each leave one record.
import { type RedisHandle, startRedis, uniqueName } from '@registry-triggers/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../src/keys.js';
import { type NewAccessRecord, RecordStore } from '../src/records.js';
import { accessRecord } from './support/access-record.js';

let server: RedisHandle;
let redis: Redis;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const record = (namespace: string, status: NewAccessRecord['status']): NewAccessRecord =>
  status === 'untriggered'
    ? accessRecord(namespace)
    : accessRecord(namespace, { status, deliveryId: 'msg_1', statusCode: '500', attempt: 1 });

describe('one write, one record', () => {
  it('keeps one untriggered record per write id, answering the first id again', async () => {
    const namespace = uniqueName('once');
    const store = new RecordStore(redis);
    const first = await store.append(record(namespace, 'untriggered'), Date.now(), 'untriggered:evt-1:trg-1');
    const again = await store.append(record(namespace, 'untriggered'), Date.now(), 'untriggered:evt-1:trg-1');
    expect(again).toBe(first);
    const page = await store.list({ namespace, scope: { repository: 'app', triggerId: 'trg-1' }, limit: 50 });
    expect(page.records.map((r) => r.id)).toEqual([first]);
    // Another write id is another record.
    await store.append(record(namespace, 'untriggered'), Date.now(), 'untriggered:evt-2:trg-1');
    expect(await redis.xlen(keys.recordLog(namespace))).toBe(2);
  });

  it('answers a replayed delivery attempt write with its first answer, failing-since included', async () => {
    const namespace = uniqueName('once');
    // Records the script call (the store's scripts are ioredis commands named rt_*), to send
    // it again exactly as a retry after a lost reply does.
    const calls: Array<{ name: string; args: Array<string | number> }> = [];
    const recording = new Proxy(redis, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (typeof name !== 'string' || !name.startsWith('rt_') || typeof value !== 'function') return value;
        return (...callArgs: Array<string | number>) => {
          calls.push({ name, args: callArgs });
          return (value as (...a: Array<string | number>) => unknown).apply(target, callArgs);
        };
      },
    });
    const written = await new RecordStore(recording).appendAttempt(record(namespace, 'failed'), 1_000);
    expect(written.failingSince).toBe(1_000);
    const { name, args } = calls[0]!;
    const replay = Reflect.get(redis, name) as (...a: Array<string | number>) => Promise<unknown>;
    const again = (await replay.apply(redis, args)) as [string, string?];
    expect(again).toEqual([written.id, '1000']);
    expect(await redis.xlen(keys.recordLog(namespace))).toBe(1);
  });
});
