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

  it('a backlog gets one slot each, the emission interval apart, kept across its wake-ups', async () => {
    const trigger = `t${++n}`;
    const spec = { perSecond: 10, leaseMs: 1000 };
    const answers = [];
    for (const id of ['a', 'b', 'c', 'd']) answers.push(await gates.admitRate(delivery(trigger, id), spec));
    expect(answers[0]).toMatchObject({ kind: 'go' });
    const slots = answers.slice(1).map((a) => (a.kind === 'wait' ? a.retryAtMs - a.nowMs : -1));
    expect(slots[0]).toBeGreaterThan(80);
    expect(slots[1]! - slots[0]!).toBeGreaterThan(90);
    expect(slots[2]! - slots[1]!).toBeGreaterThan(90);
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
