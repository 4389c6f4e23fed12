// The write markers that make an access-log write exactly-once: a write id written again
// answers its first record, for as long as that record can be in the log, and the markers
// take memory bounded by the retention count however many records pass through.
import { type RedisHandle, startRedis, uniqueName, waitFor } from '@registry-triggers/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../src/keys.js';
import { type NewAccessRecord, RecordStore, type Retention } from '../src/records.js';
import { accessRecord } from './support/access-record.js';

let server: RedisHandle;
let redis: Redis;
/** Entries one stream node holds at most: approximate (~) trimming leaves up to one node over the cap. */
let nodeEntries: number;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
  const config = (await redis.config('GET', 'stream-node-max-entries')) as string[];
  nodeEntries = Number(config[1]);
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const MAX_RECORDS = 100;
const retention: Retention = { maxAgeMs: 24 * 3600 * 1000, maxRecordsPerNamespace: MAX_RECORDS };

const record = (namespace: string, n: number): NewAccessRecord =>
  accessRecord(namespace, {
    triggerId: `trg-${n % 3}`,
    eventId: `evt-${n}`,
    tag: `v${n}`,
    digest: `sha256:${n.toString(16).padStart(64, '0')}`,
  });

/** Write markers of a namespace, both generations (each hash also holds one bookkeeping field). */
async function markerFields(namespace: string): Promise<number> {
  const current = await redis.hlen(keys.recordWrites(namespace, 'current'));
  const previous = await redis.hlen(keys.recordWrites(namespace, 'previous'));
  return current + previous;
}

describe('a write id written again', () => {
  it('adds one record and answers the same id, also when both writes race', async () => {
    const namespace = uniqueName('twice');
    const store = new RecordStore(redis, retention);
    const first = await store.append(record(namespace, 1), Date.now(), 'untriggered:evt-1:trg-1');
    expect(await store.append(record(namespace, 1), Date.now(), 'untriggered:evt-1:trg-1')).toBe(first);
    const raced = await Promise.all(
      Array.from({ length: 5 }, () =>
        store.append(record(namespace, 2), Date.now(), 'untriggered:evt-2:trg-1'),
      ),
    );
    expect(new Set(raced).size).toBe(1);
    const page = await store.list({ namespace, scope: { all: true }, limit: 50 });
    expect(page.records.map((r) => r.id)).toEqual([raced[0], first]);
  });

  it('is recognized while its record is in the log, for at least maxRecordsPerNamespace writes', async () => {
    const namespace = uniqueName('window');
    const store = new RecordStore(redis, retention);
    const first = await store.append(record(namespace, 0), Date.now(), 'the-write');
    let others = 0;
    for (;;) {
      await store.append(record(namespace, ++others), Date.now(), `other-${others}`);
      const length = await redis.xlen(keys.recordLog(namespace));
      const again = await store.append(record(namespace, 0), Date.now(), 'the-write');
      if (again === first) {
        // Answered, not added: the log did not grow.
        expect(await redis.xlen(keys.recordLog(namespace))).toBe(length);
        continue;
      }
      // Added again only once the first copy has left the log, so the log shows it once.
      expect(await store.get(namespace, first)).toBeUndefined();
      const copies = (await redis.xrange(keys.recordLog(namespace), '-', '+')).filter(([, fields]) =>
        fields[1]!.includes('"eventId":"evt-0"'),
      );
      expect(copies.map(([id]) => id)).toEqual([again]);
      break;
    }
    expect(others).toBeGreaterThanOrEqual(MAX_RECORDS);
    // ...and not for ever: the window ends within the bound on the markers.
    expect(others).toBeLessThanOrEqual(2 * (MAX_RECORDS + nodeEntries));
  });

  it('empty is not a write id', async () => {
    const store = new RecordStore(redis, retention);
    await expect(store.append(record(uniqueName('empty'), 0), Date.now(), '')).rejects.toThrow(/write id/);
  });
});

describe('the markers of 20 x maxRecordsPerNamespace writes', () => {
  const namespace = uniqueName('bounded');
  let store: RecordStore;
  const WRITES = 20 * MAX_RECORDS;
  const ids: string[] = [];
  let longestLog = 0;
  let mostMarkers = 0;
  let keysAfterTwoRounds: string[] = [];
  let markerBytesAfterFiveRounds = 0;

  beforeAll(async () => {
    store = new RecordStore(redis, retention);
    for (let n = 0; n < WRITES; n++) {
      ids.push(await store.append(record(namespace, n), Date.now(), `write-${n}`));
      longestLog = Math.max(longestLog, await redis.xlen(keys.recordLog(namespace)));
      mostMarkers = Math.max(mostMarkers, await markerFields(namespace));
      if (n + 1 === 2 * MAX_RECORDS) keysAfterTwoRounds = (await redis.keys(`*${namespace}*`)).sort();
      if (n + 1 === 5 * MAX_RECORDS) markerBytesAfterFiveRounds = await markerBytes();
    }
  }, 60_000);

  async function markerBytes(): Promise<number> {
    let bytes = 0;
    for (const generation of ['current', 'previous'] as const) {
      bytes += Number(
        (await redis.memory('USAGE', keys.recordWrites(namespace, generation), 'SAMPLES', 0)) ?? 0,
      );
    }
    return bytes;
  }

  it('stay bounded by the retention count, not by the number of records', async () => {
    // Approximate trimming keeps the log within one stream node of the cap...
    expect(longestLog).toBeLessThan(MAX_RECORDS + nodeEntries);
    // ...and the markers within two generations of the longest log (+1 bookkeeping field each).
    expect(mostMarkers).toBeLessThanOrEqual(2 * Math.max(MAX_RECORDS, longestLog) + 2);
    expect(mostMarkers).toBeGreaterThanOrEqual(MAX_RECORDS);
    // The namespace holds the same keys after 2 rounds of the cap as after 20...
    expect((await redis.keys(`*${namespace}*`)).sort()).toEqual(keysAfterTwoRounds);
    expect(keysAfterTwoRounds).toContain(keys.recordWrites(namespace, 'previous'));
    // ...and its markers as many bytes after 20 rounds as after 5 (give or take a field size).
    expect(await markerBytes()).toBeLessThan(markerBytesAfterFiveRounds * 1.25);
  });

  it('still recognize every write whose record the log holds', async () => {
    const retained = (await redis.xrange(keys.recordLog(namespace), '-', '+')).map(([id]) => id);
    expect(retained.length).toBeGreaterThanOrEqual(MAX_RECORDS);
    const firstRetained = ids.indexOf(retained[0]!);
    expect(ids.slice(firstRetained)).toEqual(retained);
    for (let n = firstRetained; n < WRITES; n++) {
      expect(await store.append(record(namespace, n), Date.now(), `write-${n}`)).toBe(ids[n]);
    }
    expect((await redis.xrange(keys.recordLog(namespace), '-', '+')).map(([id]) => id)).toEqual(retained);
  });
});

describe('an idle namespace', () => {
  it('leaves no markers behind: both generations expire with the log', async () => {
    const namespace = uniqueName('idle-markers');
    const maxAgeMs = 1500;
    const store = new RecordStore(redis, { maxAgeMs, maxRecordsPerNamespace: MAX_RECORDS });
    for (let n = 0; n < 2.5 * MAX_RECORDS; n++)
      await store.append(record(namespace, n), Date.now(), `w-${n}`);
    for (const generation of ['current', 'previous'] as const) {
      const ttl = await redis.pttl(keys.recordWrites(namespace, generation));
      expect(ttl, generation).toBeGreaterThan(0);
      expect(ttl, generation).toBeLessThanOrEqual(maxAgeMs);
    }
    await waitFor(async () => (await redis.keys(`*${namespace}*`)).length === 0, {
      timeoutMs: 10_000,
      message: 'every key of the idle namespace to expire',
    });
  });
});
