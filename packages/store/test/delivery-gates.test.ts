// The gate scripts on a real Redis, where the e2e tests cannot reach: a dead worker's
// in-flight lease expires, reservations space a backlog by the emission interval, a coalesce
// delivery that ended supersedes an older one still registered, re-registration keeps its place.
import { type RedisHandle, startRedis, waitFor } from '@registry-triggers/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryGateStore, type GateDelivery } from '../src/delivery-gates.js';

describe('DeliveryGateStore', () => {
  let server: RedisHandle;
  let redis: Redis;
  let gates: DeliveryGateStore;
  let n = 0;
  const delivery = (triggerId: string, deliveryId: string, tag = 'latest'): GateDelivery => ({
    namespace: 'gates',
    repository: 'repo',
    triggerId,
    tag,
    deliveryId,
  });

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    gates = new DeliveryGateStore(redis);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('maxInFlight: a full trigger waits; a lease its worker never released expires and frees the slot', async () => {
    const trigger = `t${++n}`;
    const spec = { perSecond: 1000, maxInFlight: 1, leaseMs: 300 };
    expect(await gates.admitRate(delivery(trigger, 'a'), spec)).toMatchObject({ kind: 'go' });
    const waiting = await gates.admitRate(delivery(trigger, 'b'), spec);
    expect(waiting).toMatchObject({ kind: 'wait', cause: 'in-flight' });
    // 'a' is never released (its worker died): after the lease 'b' goes.
    await waitFor(
      async () => ((await gates.admitRate(delivery(trigger, 'b'), spec)).kind === 'go' ? true : undefined),
      {
        timeoutMs: 3000,
        intervalMs: 50,
      },
    );
  });

  it('DELIVERY_HOST_RATE_LIMIT: deliveries of any trigger or namespace to one host share its slots; another host has its own', async () => {
    const host = `receiver-${++n}.example.com`;
    // One a second, whoever's delivery takes it (slots a second apart: a slow box changes nothing).
    const first = await gates.admitHost(host, 'ns-a/t1/d1', 1);
    expect(first).toMatchObject({ kind: 'go' });
    const second = await gates.admitHost(host, 'ns-b/t7/d2', 1);
    const third = await gates.admitHost(host, 'ns-a/t2/d3', 1);
    if (second.kind !== 'wait' || third.kind !== 'wait')
      throw new Error(`not held: ${second.kind}, ${third.kind}`);
    expect(second.retryAtMs - first.nowMs).toBeGreaterThanOrEqual(999);
    expect(second.retryAtMs - first.nowMs).toBeLessThanOrEqual(1001);
    expect(third.retryAtMs - second.retryAtMs).toBeGreaterThanOrEqual(999);
    // The same delivery asking again keeps its slot; another host has slots of its own.
    const secondAgain = await gates.admitHost(host, 'ns-b/t7/d2', 1);
    expect(secondAgain.kind === 'wait' && secondAgain.retryAtMs).toBe(second.retryAtMs);
    expect(await gates.admitHost(`other-${host}`, 'ns-b/t7/d4', 1)).toMatchObject({ kind: 'go' });
  });

  it('a backlog gets one slot each, the emission interval apart, kept across its wake-ups', async () => {
    const trigger = `t${++n}`;
    // One a second: slots far enough apart that a slow box between the calls changes nothing.
    const spec = { perSecond: 1, leaseMs: 1000 };
    const answers = [];
    for (const id of ['a', 'b', 'c', 'd']) answers.push(await gates.admitRate(delivery(trigger, id), spec));
    expect(answers[0]).toMatchObject({ kind: 'go' });
    const goneAt = answers[0]!.nowMs;
    const slots = answers.slice(1).map((a) => (a.kind === 'wait' ? a.retryAtMs : Number.NaN));
    // Each waiting delivery has its own slot, one interval after the one before (Redis's clock).
    expect(slots[0]! - goneAt).toBeGreaterThanOrEqual(999);
    expect(slots[1]! - slots[0]!).toBeGreaterThanOrEqual(999);
    expect(slots[1]! - slots[0]!).toBeLessThanOrEqual(1001);
    expect(slots[2]! - slots[1]!).toBeGreaterThanOrEqual(999);
    expect(slots[2]! - slots[1]!).toBeLessThanOrEqual(1001);
    // Asking again early keeps the reservation: the same slot, no new one taken.
    const again = await gates.admitRate(delivery(trigger, 'd'), spec);
    expect(again.kind === 'wait' && again.retryAtMs).toBe(
      answers[3]!.kind === 'wait' && answers[3]!.retryAtMs,
    );
  });

  it('coalesce: an older delivery is superseded by a newer one, also after the newer one ended', async () => {
    const trigger = `t${++n}`;
    const register = (id: string, score: number) =>
      gates.register(
        { ...delivery(trigger, id), eventId: `evt-${id}`, score },
        { ordered: false, coalesce: true },
      );
    await register('old', 1000);
    await register('new', 2000);
    // Registering the same delivery again (a re-evaluated push) changes nothing.
    await register('old', 3000);
    expect(await gates.admitCoalesce(delivery(trigger, 'new'), 5000)).toMatchObject({
      kind: 'go',
      older: ['old'],
    });
    await gates.release(delivery(trigger, 'new'), true);
    expect(await gates.admitCoalesce(delivery(trigger, 'old'), 5000)).toEqual({
      kind: 'superseded',
      byEventId: 'evt-new',
    });
  });

  it('ordered: only the head goes; its final release makes the next the head', async () => {
    const trigger = `t${++n}`;
    for (const [id, score] of [
      ['second', 20],
      ['first', 10],
    ] as const)
      await gates.register(
        { ...delivery(trigger, id), eventId: id, score },
        { ordered: true, coalesce: false },
      );
    expect(await gates.admitOrdered(delivery(trigger, 'second'))).toMatchObject({
      kind: 'wait',
      head: 'first',
      rank: 1,
    });
    expect(await gates.admitOrdered(delivery(trigger, 'first'))).toMatchObject({ kind: 'go' });
    // A retry keeps the head.
    expect((await gates.release(delivery(trigger, 'first'), false)).orderHead).toBe('first');
    expect((await gates.release(delivery(trigger, 'first'), true)).orderHead).toBe('second');
    expect(await gates.admitOrdered(delivery(trigger, 'second'))).toMatchObject({ kind: 'go' });
  });
});
