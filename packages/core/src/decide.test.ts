import { describe, expect, it } from 'vitest';
import { type AccessRecord, accessRecordSchema } from './access-record.js';
import { decideAfterAttempt, decideBeforeAttempt, decideFromRecord, recordStatusOf } from './decide.js';
import { attemptRecord, finalRecordAfter, unsentRecord, untriggeredRecord } from './record-builders.js';
import { attemptLimit, defaultRetryPolicy, type RetryPolicy } from './retry-policy.js';
import type { Trigger } from './trigger.js';

const trigger: Trigger = {
  id: 't1',
  namespace: 'ns',
  repository: 'app',
  name: 'deploy',
  url: 'https://hooks.example.com/x?token=secret',
  type: 'ALL',
  enabled: true,
  createdAt: 1,
  updatedAt: 1,
};
const policy: RetryPolicy = { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 60_000 };
const delivery = {
  eventId: 'evt',
  deliveryId: 'msg_1',
  namespace: 'ns',
  repository: 'app',
  tag: 'v1',
  digest: 'sha256:abc',
  requestId: 'req-1',
};

describe('decideBeforeAttempt', () => {
  it('sends to an enabled trigger', () => {
    expect(decideBeforeAttempt(trigger, {}, 1)).toEqual({ action: 'send', trigger });
  });

  it('skips a disabled trigger, naming why it was disabled, but sends a test delivery', () => {
    const disabled = { ...trigger, enabled: false, disabledReason: 'HTTP 410' };
    expect(decideBeforeAttempt(disabled, {}, 2)).toEqual({
      action: 'skip',
      reason: 'disabled',
      trigger: disabled,
      note: 'not sent: the trigger is disabled (HTTP 410)',
    });
    expect(decideBeforeAttempt(disabled, { singleAttempt: true }, 1).action).toBe('send');
  });

  it('skips a deleted trigger; only a delivery with earlier attempts has a story to end', () => {
    expect(decideBeforeAttempt(undefined, {}, 1)).toEqual({
      action: 'skip',
      reason: 'trigger-deleted',
      recordEnd: false,
    });
    expect(decideBeforeAttempt(undefined, {}, 2)).toMatchObject({ recordEnd: true });
    expect(decideBeforeAttempt(undefined, { singleAttempt: true }, 2)).toMatchObject({ recordEnd: false });
  });
});

describe('decideAfterAttempt', () => {
  it('is done on success, retries a retryable outcome within the limit, fails after it', () => {
    expect(decideAfterAttempt(policy, 1, { type: 'succeeded' }, {}, 0)).toEqual({ action: 'done' });
    expect(decideAfterAttempt(policy, 1, { type: 'retryable', reason: 'HTTP 503' }, {}, 0)).toEqual({
      action: 'retry',
      reason: 'HTTP 503',
      delayMs: 500,
    });
    expect(decideAfterAttempt(policy, 3, { type: 'retryable', reason: 'HTTP 503' }, {}, 0)).toEqual({
      action: 'fail',
      reason: 'HTTP 503',
      disableTrigger: false,
    });
  });

  it('never retries a test delivery, and disables the trigger on a 410', () => {
    expect(
      decideAfterAttempt(policy, 1, { type: 'retryable', reason: 'ETIMEDOUT' }, { singleAttempt: true }, 0),
    ).toMatchObject({ action: 'fail' });
    const gone = { type: 'final', reason: 'HTTP 410', disableTrigger: true } as const;
    expect(decideAfterAttempt(policy, 1, gone, {}, 0)).toEqual({
      action: 'fail',
      reason: 'HTTP 410',
      disableTrigger: true,
    });
  });

  it('keeps to a longer Retry-After', () => {
    const outcome = { type: 'retryable', reason: 'HTTP 429', retryAfterMs: 30_000 } as const;
    expect(decideAfterAttempt(policy, 1, outcome, {}, 0)).toMatchObject({ delayMs: 30_000 });
  });

  it('names the record status of each decision', () => {
    expect(recordStatusOf({ action: 'done' })).toBe('succeeded');
    expect(recordStatusOf({ action: 'retry', reason: '', delayMs: 1 })).toBe('retrying');
    expect(recordStatusOf({ action: 'fail', reason: '', disableTrigger: false })).toBe('failed');
  });
});

describe('decideFromRecord', () => {
  const base = { note: 'HTTP 503', statusCode: '503' };
  it('ends as the record says, keeping the next attempt to the time it announced', () => {
    expect(decideFromRecord(policy, { ...base, status: 'succeeded' }, 1, 0, 0)).toEqual({ action: 'done' });
    expect(
      decideFromRecord(policy, { ...base, status: 'retrying', nextAttemptAt: 5000 }, 1, 2000, 0),
    ).toEqual({
      action: 'retry',
      reason: 'HTTP 503',
      delayMs: 3000,
    });
    expect(decideFromRecord(policy, { ...base, status: 'retrying' }, 2, 0, 0)).toMatchObject({
      delayMs: 1000,
    });
    expect(decideFromRecord(policy, { ...base, status: 'failed' }, 3, 0, 0)).toEqual({
      action: 'fail',
      reason: 'HTTP 503',
      disableTrigger: false,
    });
  });
});

describe('the attempt limit', () => {
  it('is the policy’s, one for a test delivery', () => {
    expect(attemptLimit(defaultRetryPolicy)).toBe(12);
    expect(attemptLimit(defaultRetryPolicy, true)).toBe(1);
  });
});

describe('the record builders', () => {
  const valid = (record: Omit<AccessRecord, 'id'>) => accessRecordSchema.parse({ id: '1-0', ...record });

  it('an untriggered record says why and what it is about', () => {
    const record = valid(untriggeredRecord(trigger, delivery, 7, 'filter'));
    expect(record).toMatchObject({
      status: 'untriggered',
      deliveryId: null,
      attempt: 0,
      reason: 'filter',
      requestId: 'req-1',
      triggerUrl: 'https://hooks.example.com/x?token=***',
    });
  });

  it('an attempt record redacts headers and joins its notes once each', () => {
    const record = valid(
      attemptRecord(trigger, delivery, {
        attempt: 2,
        requestTime: 9,
        status: 'retrying',
        statusCode: '503',
        durationMs: 12,
        requestHeaders: { 'webhook-signature': 'v1,abc', 'content-type': 'application/json' },
        requestBody: '{}',
        responseHeaders: { 'set-cookie': 'x' },
        responseBody: 'busy',
        notes: [undefined, 'HTTP 503', 'HTTP 503'],
        nextAttemptAt: 1009,
      }),
    );
    expect(record).toMatchObject({
      deliveryId: 'msg_1',
      note: 'HTTP 503',
      nextAttemptAt: 1009,
      requestHeaders: { 'webhook-signature': '***', 'content-type': 'application/json' },
      responseHeaders: { 'set-cookie': '***' },
    });
  });

  it('an unsent record and the final record after an attempt carry the unsent reason', () => {
    const disabled = valid(
      unsentRecord(trigger, delivery, {
        attempt: 1,
        at: 5,
        statusCode: 'TRIGGER_DISABLED',
        note: 'not sent',
      }),
    );
    expect(disabled).toMatchObject({ status: 'failed', reason: 'disabled', requestBody: '', durationMs: 0 });
    const previous: AccessRecord = {
      ...disabled,
      status: 'retrying',
      note: 'x',
      nextAttemptAt: 9,
    };
    const ended = finalRecordAfter(previous, {
      attempt: 2,
      at: 10,
      statusCode: 'TRIGGER_DELETED',
      note: 'not sent: the trigger was deleted',
    });
    expect(valid(ended)).toMatchObject({
      attempt: 2,
      requestTime: 10,
      reason: 'trigger-deleted',
      status: 'failed',
    });
    expect(ended).not.toHaveProperty('nextAttemptAt');
  });
});
