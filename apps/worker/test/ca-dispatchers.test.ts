// Which dispatcher an HTTPS delivery gets, against a real Redis: the shared one unless its
// namespace has a CA bundle, one per distinct bundle, a replaced bundle a new one, and at most
// `capacity` of them (the least recently used closed).
import { CaBundleStore } from '@registry-triggers/store';
import { createPrivateCa, uniqueName, useRedis } from '@registry-triggers/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaDispatchers } from '../src/ca-dispatchers.js';
import { createDeliveryDispatcher } from '../src/http-delivery.js';

const server = useRedis();
let redis: Redis;
let bundles: CaBundleStore;
const options = { allowPrivateNetworks: true, connectTimeoutMs: 1000, timeoutMs: 1000 };
const shared = createDeliveryDispatcher(options);
beforeAll(() => {
  redis = new Redis(server().url);
  bundles = new CaBundleStore(redis);
});
afterAll(async () => {
  redis?.disconnect();
  await shared.close();
});

describe('CaDispatchers', () => {
  it('the shared dispatcher for http, and for https of a namespace without a bundle', async () => {
    const dispatchers = new CaDispatchers(bundles, shared, options);
    const ns = uniqueName('ca');
    expect(await dispatchers.forDelivery(ns, 'https://hooks.example.com/x')).toBe(shared);
    await bundles.put(ns, (await createPrivateCa()).cert);
    expect(await dispatchers.forDelivery(ns, 'http://hooks.example.com/x')).toBe(shared);
    expect(dispatchers.size).toBe(0);
    await dispatchers.close();
  });

  it('one dispatcher per bundle: shared by namespaces with the same bundle, new when a bundle changes or goes', async () => {
    const dispatchers = new CaDispatchers(bundles, shared, options);
    const [a, b] = [uniqueName('ca'), uniqueName('ca')];
    const [first, second] = [(await createPrivateCa()).cert, (await createPrivateCa()).cert];
    await bundles.put(a, first);
    await bundles.put(b, first);
    const ofA = await dispatchers.forDelivery(a, 'https://hooks.example.com/x');
    expect(ofA).not.toBe(shared);
    expect(await dispatchers.forDelivery(b, 'https://other.example.com/y')).toBe(ofA);
    await bundles.put(a, second);
    const replaced = await dispatchers.forDelivery(a, 'https://hooks.example.com/x');
    expect(replaced).not.toBe(ofA);
    expect(dispatchers.size).toBe(2);
    await bundles.delete(a);
    expect(await dispatchers.forDelivery(a, 'https://hooks.example.com/x')).toBe(shared);
    await dispatchers.close();
  });

  it('holds at most `capacity` dispatchers, closing the least recently used', async () => {
    const dispatchers = new CaDispatchers(bundles, shared, options, 2);
    const namespaces = [uniqueName('ca'), uniqueName('ca'), uniqueName('ca')];
    for (const ns of namespaces) await bundles.put(ns, (await createPrivateCa()).cert);
    const [n0, n1, n2] = namespaces as [string, string, string];
    const d0 = await dispatchers.forDelivery(n0, 'https://h.example.com/');
    const d1 = await dispatchers.forDelivery(n1, 'https://h.example.com/');
    expect(await dispatchers.forDelivery(n0, 'https://h.example.com/')).toBe(d0); // n0 used again
    await dispatchers.forDelivery(n2, 'https://h.example.com/');
    expect(dispatchers.size).toBe(2);
    expect((d1 as unknown as { closed: boolean }).closed).toBe(true);
    expect((d0 as unknown as { closed: boolean }).closed).toBe(false);
    expect(await dispatchers.forDelivery(n0, 'https://h.example.com/')).toBe(d0);
    await dispatchers.close();
    expect((d0 as unknown as { closed: boolean }).closed).toBe(true);
  });
});
