/**
 * TRIGGER_AUTO_DISABLE_AFTER_MS: a trigger whose deliveries keep failing with no success in
 * between is disabled once that period has passed, and the access log says why.
 */
import { type Receiver, startReceiver, waitFor } from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './support/stack.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('auto-disable of a trigger that keeps failing', () => {
  let stack: Stack;
  let failing: Receiver;
  let healthy: Receiver;

  beforeAll(async () => {
    [failing, healthy] = await Promise.all([startReceiver(), startReceiver()]);
    failing.respondWith(() => ({ status: 503, body: 'down' }));
    stack = await startStack({ workerEnv: { TRIGGER_AUTO_DISABLE_AFTER_MS: '500' } });
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    await Promise.all([failing?.close(), healthy?.close()]);
  });

  it('disables the failing trigger after the period and leaves the healthy one alone', async () => {
    const bad = await stack.createTrigger('auto', 'app', { name: 'bad', url: failing.url, type: 'ALL' });
    const good = await stack.createTrigger('auto', 'app', { name: 'good', url: healthy.url, type: 'ALL' });
    expect(
      (await stack.push({ namespace: 'auto', repository: 'app', tag: 'v1', digest: DIGEST })).status,
    ).toBe(202);

    // First attempt fails at once; the retry about a second later is past the 500 ms period.
    const records = await stack.records('auto', 'app', bad.id, 2);
    expect(records.map((r) => r.status)).toEqual(['retrying', 'retrying']);
    // The trigger is disabled right after the record that found it failing too long is written.
    const trigger = await waitFor(
      async () => {
        const read = await stack.call('GET', `/v1/namespaces/auto/repositories/app/triggers/${bad.id}`);
        return read.body.enabled === false ? read : undefined;
      },
      { timeoutMs: 10_000, message: 'the failing trigger to be disabled' },
    );
    expect(trigger.body.disabledReason).toMatch(/failed/);

    const goodTrigger = await stack.call('GET', `/v1/namespaces/auto/repositories/app/triggers/${good.id}`);
    expect(goodTrigger.body.enabled).toBe(true);
    expect(healthy.requests).toHaveLength(1);

    // The third attempt of the disabled trigger is not sent: its record says why.
    const [notSent] = await stack.records('auto', 'app', bad.id, 3);
    expect(notSent).toMatchObject({ status: 'failed', statusCode: 'TRIGGER_DISABLED' });
    expect(notSent.note).toMatch(/every delivery failed for \d+ min .* the trigger is disabled/);
    expect(failing.requests).toHaveLength(2);
  });
});
