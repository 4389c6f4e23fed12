/**
 * Cancelling a delivery's retries on the real stack (api, worker and logs processes, a real
 * receiver): a retrying record announces its next attempt (nextAttemptAt); a cancel asked
 * while an attempt is on the wire waits for it to end, and once accepted nothing more is
 * sent; the delivery ends with a failed CANCELLED record, and a second cancel is a 409.
 */
import { type Receiver, startReceiver, waitFor } from '@registry-triggers/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Json, type Stack, startStack } from './support/stack.js';

const NS = 'cancels';
const REPO = 'app';

let stack: Stack;
let receiver: Receiver;

beforeAll(async () => {
  [stack, receiver] = await Promise.all([startStack(), startReceiver()]);
}, 90_000);
afterAll(async () => {
  await receiver?.close();
  await stack?.stop();
});

it('a cancel during an attempt waits for it, then no attempt follows; the delivery ends CANCELLED', async () => {
  let releaseSecond: () => void = () => {};
  const secondHeld = new Promise<void>((resolve) => {
    receiver.respondWith(async (index) => {
      if (index === 1) {
        resolve();
        await new Promise<void>((release) => {
          releaseSecond = release;
        });
      }
      return { status: 503, body: 'down for maintenance' };
    });
  });
  const trigger = await stack.createTrigger(NS, REPO, { name: 'flaky', url: receiver.url, type: 'ALL' });
  const pushed = await stack.push({
    namespace: NS,
    repository: REPO,
    tag: 'v1',
    digest: `sha256:${'a'.repeat(64)}`,
  });
  expect(pushed.status).toBe(202);

  const [first] = await stack.records(NS, REPO, trigger.id, 1, 'retrying');
  // The first retry waits 0.5 to 1 s (defaultRetryPolicy): the record says when.
  expect(first.nextAttemptAt - first.requestTime).toBeGreaterThanOrEqual(500);
  expect(first.nextAttemptAt - first.requestTime).toBeLessThan(1500);

  await secondHeld;
  const path = `/v1/namespaces/${NS}/repositories/${REPO}/triggers/${trigger.id}/records/${first.id}/cancel`;
  let answered = false;
  const cancel = stack.call('POST', path).finally(() => {
    answered = true;
  });
  // The cancel reaches the api while attempt 2 is on the wire (its claim is held): requests the
  // api answers after it leave it time to run, and it does not answer while the attempt lasts ...
  for (let i = 0; i < 3; i++) {
    await stack.call('GET', `/v1/namespaces/${NS}/repositories/${REPO}/triggers/${trigger.id}`);
  }
  expect(answered).toBe(false);
  releaseSecond();
  // ... and is accepted once that attempt has ended, retrying: the CANCELLED record is attempt 3,
  // after attempt 2's (accepted during attempt 2, it would have been attempt 2, before it).
  const cancelled = await cancel;
  expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
  expect(cancelled.body).toMatchObject({
    status: 'failed',
    statusCode: 'CANCELLED',
    reason: 'cancelled',
    attempt: 3,
    deliveryId: first.deliveryId,
    triggerId: trigger.id,
  });
  expect(cancelled.body.nextAttemptAt).toBeUndefined();

  const records: Json[] = await stack.records(NS, REPO, trigger.id, 3);
  expect(records.map((r: Json) => `${r.attempt} ${r.status} ${r.statusCode}`)).toEqual([
    '3 failed CANCELLED',
    '2 retrying 503',
    '1 retrying 503',
  ]);
  // Past the time attempt 3 was due, nothing more reached the receiver.
  const second = records[1];
  await waitFor(async () => Date.now() > second.nextAttemptAt + 1500, { timeoutMs: 10_000, intervalMs: 100 });
  expect(receiver.requests).toHaveLength(2);
  expect((await stack.records(NS, REPO, trigger.id, 3)).length).toBe(3);

  const again = await stack.call('POST', path);
  expect(again.status).toBe(409);
  expect(again.body).toMatchObject({ code: 'delivery-finished' });
  // The logs app serves the CANCELLED record as the api answered it.
  const shown = await stack.logsCall(`/v1/namespaces/${NS}/records/${cancelled.body.id}`);
  expect(shown.body).toEqual(cancelled.body);
});
