// The last digest per tag, as evaluation moves it (TriggerStore.loadContext) against a real
// Redis: racing pushes of one tag, re-evaluation of one push, the cap and the expiry.
import { uniqueName, useRedis } from '@registry-triggers/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../src/keys.js';
import { MAX_TRACKED_TAGS, TAG_DIGEST_TTL_MS } from '../src/tag-digests.js';
import { type TagMove, TriggerStore } from '../src/triggers.js';

const server = useRedis();
let redis: Redis;
let store: TriggerStore;
beforeAll(() => {
  redis = new Redis(server().url);
  store = new TriggerStore(redis);
});
afterAll(() => redis?.disconnect());

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
let seq = 0;
const move = (namespace: string, tag: string, d: string, eventId = `evt-${++seq}`, receivedAt = 1000) =>
  store
    .loadContext(namespace, 'app', receivedAt, { tag, digest: d, eventId, receivedAt } satisfies TagMove)
    .then((context) => context.previousDigest);

describe('tag digests', () => {
  it('answers null for a first push, then the digest before each push', async () => {
    const ns = uniqueName('td');
    expect(await move(ns, 'latest', digest(1))).toBeNull();
    expect(await move(ns, 'latest', digest(1))).toBe(digest(1));
    expect(await move(ns, 'latest', digest(2))).toBe(digest(1));
    expect(await move(ns, 'v1', digest(2))).toBeNull();
    expect(await move(ns, 'latest', digest(3))).toBe(digest(2));
    // Without a push nothing is moved and nothing answered.
    expect((await store.loadContext(ns, 'app', 1000)).previousDigest).toBeUndefined();
  });

  it('of 50 racing pushes of one tag to one new digest, exactly one sees the old digest', async () => {
    const ns = uniqueName('td');
    await move(ns, 'latest', digest(1));
    const racers = new Array(50).fill(0).map(() => new Redis(server().url));
    try {
      const previous = await Promise.all(
        racers.map((connection, i) =>
          new TriggerStore(connection)
            .loadContext(ns, 'app', 1000, {
              tag: 'latest',
              digest: digest(2),
              eventId: `race-${i}`,
              receivedAt: 1,
            })
            .then((context) => context.previousDigest),
        ),
      );
      expect(previous.filter((d) => d === digest(1))).toHaveLength(1);
      expect(previous.filter((d) => d === digest(2))).toHaveLength(49);
    } finally {
      for (const connection of racers) connection.disconnect();
    }
  });

  it('a re-evaluation of the same push answers what the first one did', async () => {
    const ns = uniqueName('td');
    await move(ns, 'latest', digest(1));
    expect(await move(ns, 'latest', digest(2), 'evt-again', 5)).toBe(digest(1));
    expect(await move(ns, 'latest', digest(2), 'evt-again', 5)).toBe(digest(1));
    // The same event id arriving again later (after the dedupe window) is a new push.
    expect(await move(ns, 'latest', digest(2), 'evt-again', 6)).toBe(digest(2));
  });

  it('a push without a digest leaves the tag where it was and answers null', async () => {
    const ns = uniqueName('td');
    await move(ns, 'latest', digest(1));
    expect(await move(ns, 'latest', '')).toBeNull();
    expect(await move(ns, 'latest', digest(2))).toBe(digest(1));
  });

  it(`is bounded: at most ${MAX_TRACKED_TAGS} tags per repository, expiring after 30 days without a push`, async () => {
    const ns = uniqueName('td');
    const key = keys.tagDigests(ns, 'app');
    const pipeline = redis.pipeline();
    for (let n = 0; n < MAX_TRACKED_TAGS; n++) {
      pipeline.hset(key, `t${n}`, JSON.stringify({ d: digest(n), e: `e${n}`, p: '' }));
    }
    await pipeline.exec();
    expect(await move(ns, 'one-more', digest(1))).toBeNull();
    expect(await redis.hlen(key)).toBe(MAX_TRACKED_TAGS);
    expect(await redis.hexists(key, 'one-more')).toBe(1);
    // An existing tag moves in place: nothing is evicted.
    expect(await move(ns, 't1', digest(99))).toBeOneOf([digest(1), null]);
    expect(await redis.hlen(key)).toBe(MAX_TRACKED_TAGS);
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(TAG_DIGEST_TTL_MS - 60_000);
    expect(ttl).toBeLessThanOrEqual(TAG_DIGEST_TTL_MS);
    expect(key).toContain(`{ns:${ns}}`);
  });
});
