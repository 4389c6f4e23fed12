// A delivery's claim and its cancel exclude each other on a real Redis: whichever comes
// first wins, and the loser says so (a cancel during an attempt is told `sending`, a claim
// after a cancel is told `cancelled`).
import { uniqueName, useRedis } from '@registry-triggers/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DeliveryStates } from '../src/delivery-states.js';
import { keys } from '../src/keys.js';

const redisServer = useRedis();
let redis: Redis;
let states: DeliveryStates;
const NS = 'states';

beforeAll(() => {
  redis = new Redis(redisServer().url);
  states = new DeliveryStates(redis);
});
afterAll(() => redis?.disconnect());

it('a cancel waits out an attempt, is accepted between attempts, and stops every later claim', async () => {
  const id = uniqueName('d');
  expect(await states.claim(NS, id, 60_000)).toEqual({ kind: 'unknown' });
  expect(await states.cancel(NS, id, true)).toEqual({ accepted: false, reason: 'sending' });
  await states.waitForRetry(NS, id, 1);
  expect(await states.claim(NS, id, 60_000)).toEqual({ kind: 'waiting', attempt: 1 });
  await states.waitForRetry(NS, id, 2);
  expect(await states.cancel(NS, id, true)).toEqual({
    accepted: true,
    before: { kind: 'waiting', attempt: 2 },
  });
  expect(await states.claim(NS, id, 60_000)).toEqual({ kind: 'cancelled' });
  expect(await states.cancel(NS, id, true)).toEqual({ accepted: false, reason: 'cancelled' });
});

it('without a state, the job decides: a waiting job is cancellable, another has ended; an ended delivery keeps no key', async () => {
  const id = uniqueName('d');
  await states.claim(NS, id, 60_000);
  await states.finish(NS, id);
  expect(await redis.exists(keys.deliveryState(NS, id))).toBe(0);
  expect(await states.cancel(NS, id, false)).toEqual({ accepted: false, reason: 'ended' });
  expect(await states.cancel(NS, id, true)).toEqual({ accepted: true, before: { kind: 'unknown' } });
});

it('a claim left by a worker that died expires', async () => {
  const id = uniqueName('d');
  await states.claim(NS, id, 50);
  expect(await redis.pttl(keys.deliveryState(NS, id))).toBeLessThanOrEqual(50);
});

it('of a claim and a cancel sent at once from two connections, exactly one wins', async () => {
  // A worker's connection and the api's, as in production: Redis runs one script, then the other.
  const other = new Redis(redisServer().url);
  const api = new DeliveryStates(other);
  for (let round = 0; round < 50; round++) {
    const id = uniqueName('race');
    await states.waitForRetry(NS, id, 1);
    const claim = states.claim(NS, id, 60_000);
    const cancel = api.cancel(NS, id, true);
    const [claimed, cancelled] = await Promise.all([claim, cancel]);
    const claimWon = claimed.kind !== 'cancelled';
    expect(claimWon, `round ${round}`).toBe(!cancelled.accepted);
    if (claimWon) expect(cancelled).toEqual({ accepted: false, reason: 'sending' });
  }
  other.disconnect();
});
