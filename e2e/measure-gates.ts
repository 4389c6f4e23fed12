/**
 * The long measurements of the delivery gates (issue #18), outside the default test run:
 * `npm run measure:gates -w @registry-triggers/e2e [-- --only=rate|coalesce]`.
 *
 * - rate: a trigger with rateLimit 5/s and an unlimited one beside it on one repository, both
 *   fed 150 pushes at once; the limited one's deliveries a second over 20 s (should be 5 ± 10 %),
 *   the unlimited one's time to receive all of them.
 * - coalesce: 50 `latest`-style triggers (one tag each, coalesce) and a stream of pushes over
 *   their 50 tags while the receiver is down (503) for 30 s; once it is back, the deliveries it
 *   receives (should be ≤ 50 + those in flight) and whether any was stale (not its tag's latest).
 *
 * Real processes (api, two workers, logs), a real Redis and a real receiver, as in the e2e tests.
 */
import { type Receiver, startReceiver, waitFor } from '@registry-triggers/testing';
import { startStack } from './support/stack.js';
import { digestFor } from './support/worker-kit.js';

const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice(7);
const NS = 'measure';

async function measureRate() {
  const stack = await startStack({ workers: 2 });
  const [limited, free] = [await startReceiver(), await startReceiver()];
  try {
    const repo = 'rate';
    await stack.createTrigger(NS, repo, {
      name: 'limited',
      url: limited.url,
      type: 'ALL',
      rateLimit: { perSecond: 5 },
    });
    await stack.createTrigger(NS, repo, { name: 'free', url: free.url, type: 'ALL' });
    const count = 150;
    const started = Date.now();
    const pushed = await stack.push(
      Array.from({ length: count }, (_, i) => ({
        namespace: NS,
        repository: repo,
        tag: `r-${i}`,
        digest: digestFor(i + 1),
        eventId: `evt-rate-${i}`,
      })),
    );
    if (pushed.status !== 202) throw new Error(`push: ${pushed.status}`);
    const freeAll = await free.waitForRequests(count, 60_000);
    const freeMs = freeAll.at(-1)!.receivedAt - started;
    // The 20 s window starts at the limited trigger's first delivery.
    const first = (await limited.waitForRequests(1, 20_000))[0]!.receivedAt;
    await waitFor(async () => (Date.now() >= first + 20_500 ? true : undefined), {
      timeoutMs: 40_000,
      intervalMs: 100,
    });
    const inWindow = limited.requests.filter((r) => r.receivedAt >= first && r.receivedAt < first + 20_000);
    const perSecond = inWindow.length / 20;
    const perWindowSecond = Array.from(
      { length: 20 },
      (_, s) =>
        inWindow.filter((r) => r.receivedAt >= first + s * 1000 && r.receivedAt < first + (s + 1) * 1000)
          .length,
    );
    return {
      row: 'rate',
      limitedPerSecond: perSecond,
      withinTenPercent: Math.abs(perSecond - 5) <= 0.5,
      limitedPerWindowSecond: perWindowSecond,
      unlimitedAllDeliveredMs: freeMs,
      unlimitedPerSecond: Math.round((count / freeMs) * 1000 * 10) / 10,
    };
  } finally {
    await Promise.all([limited.close(), free.close()]);
    await stack.stop();
  }
}

async function measureCoalesce() {
  const stack = await startStack({ workers: 2 });
  const rx: Receiver = await startReceiver();
  try {
    const repo = 'coalesce';
    const tags = Array.from({ length: 50 }, (_, i) => `latest-${i}`);
    for (const tag of tags) {
      await stack.createTrigger(NS, repo, {
        name: tag,
        url: rx.url,
        type: 'TAG_LIST',
        tags: [tag],
        coalesce: true,
      });
    }
    let down = true;
    let backAt = 0;
    rx.respondWith(() => (down ? { status: 503 } : { status: 200 }));
    const latest = new Map<string, string>();
    const downFor = 30_000;
    const started = Date.now();
    let seq = 0;
    // A stream of pushes over the 50 tags, 10 batches of 5 a second, for as long as the receiver is down.
    while (Date.now() - started < downFor) {
      const batch = Array.from({ length: 5 }, () => {
        const i = seq++;
        const tag = tags[i % tags.length]!;
        latest.set(tag, digestFor(i + 1));
        return { namespace: NS, repository: repo, tag, digest: digestFor(i + 1), eventId: `evt-co-${i}` };
      });
      const pushed = await stack.push(batch);
      if (pushed.status !== 202) throw new Error(`push: ${pushed.status}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const failedWhileDown = rx.requests.length;
    down = false;
    backAt = Date.now();
    const isLatest = (body: string) => {
      const data = JSON.parse(body).push_data;
      return latest.get(data.tag) === data.digest;
    };
    const delivered = () => rx.requests.filter((r) => r.receivedAt >= backAt);
    await waitFor(
      async () => {
        const got = new Set(
          delivered()
            .filter((r) => isLatest(r.body))
            .map((r) => JSON.parse(r.body).push_data.tag),
        );
        return got.size === tags.length ? true : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 200, message: 'every tag delivered its latest push' },
    );
    const convergedMs = Date.now() - backAt;
    // Whatever still comes in the next 3 s counts too.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const after = delivered();
    return {
      row: 'coalesce',
      pushes: seq,
      tags: tags.length,
      requestsWhileDown: failedWhileDown,
      deliveriesAfterReturn: after.length,
      staleAfterReturn: after.filter((r) => !isLatest(r.body)).length,
      allLatestDeliveredAfterMs: convergedMs,
    };
  } finally {
    await rx.close();
    await stack.stop();
  }
}

const results = [];
if (!only || only === 'rate') results.push(await measureRate());
if (!only || only === 'coalesce') results.push(await measureCoalesce());
console.log(JSON.stringify(results, null, 2));
