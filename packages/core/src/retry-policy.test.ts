import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHttpDate } from './retry-date.js';
import {
  classifyAttempt,
  type DeliveryOutcome,
  defaultRetryPolicy,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  type RetryPolicy,
  retryDelayMs,
  shouldRetry,
} from './retry-policy.js';

const NOW = Date.UTC(2024, 0, 1, 12, 0, 0);
const respond = (status: number, retryAfter?: string) =>
  classifyAttempt(
    retryAfter === undefined ? { kind: 'response', status } : { kind: 'response', status, retryAfter },
    NOW,
  );

describe('classifyAttempt: responses', () => {
  it.each([200, 201, 202, 204, 299])('%i succeeded', (status) => {
    expect(respond(status)).toEqual({ type: 'succeeded' });
  });

  it.each([301, 302, 303, 307, 308, 300, 304])('%i is final: redirects are not followed', (status) => {
    expect(respond(status)).toEqual({
      type: 'final',
      reason: `HTTP ${status}: redirects are not followed`,
      disableTrigger: false,
    });
  });

  it.each([408, 425, 429, 500, 502, 503, 504, 599])('%i is retried', (status) => {
    expect(respond(status)).toEqual({ type: 'retryable', reason: `HTTP ${status}` });
  });

  it.each([400, 401, 403, 404, 405, 409, 413, 415, 422, 499])('%i is final', (status) => {
    expect(respond(status)).toMatchObject({ type: 'final', disableTrigger: false });
  });

  it('410 is final and disables the trigger', () => {
    expect(respond(410)).toMatchObject({ type: 'final', disableTrigger: true });
  });

  it.each([100, 199, 600, 0])('%i is not a valid final answer', (status) => {
    expect(respond(status)).toMatchObject({ type: 'final', disableTrigger: false });
  });

  it('carries Retry-After on retryable answers', () => {
    expect(respond(429, '120')).toEqual({ type: 'retryable', reason: 'HTTP 429', retryAfterMs: 120_000 });
    expect(respond(503, 'Mon, 01 Jan 2024 12:00:30 GMT')).toMatchObject({ retryAfterMs: 30_000 });
    expect(respond(503, 'soon')).toEqual({ type: 'retryable', reason: 'HTTP 503' });
  });

  it('ignores Retry-After on final answers', () => {
    expect(respond(404, '10')).not.toHaveProperty('retryAfterMs');
  });
});

describe('classifyAttempt: errors', () => {
  it.each(['ETIMEDOUT', 'ECONNREFUSED', 'ECONNRESET', 'UND_ERR_HEADERS_TIMEOUT', 'ENOTFOUND'])(
    'retryable %s is retried',
    (code) => {
      expect(classifyAttempt({ kind: 'error', code, retryable: true }, NOW)).toEqual({
        type: 'retryable',
        reason: code,
      });
    },
  );

  it.each(['CERT_ERROR', 'SSRF_BLOCKED'])('non-retryable %s is final', (code) => {
    expect(classifyAttempt({ kind: 'error', code, retryable: false }, NOW)).toEqual({
      type: 'final',
      reason: code,
      disableTrigger: false,
    });
  });
});

describe('parseRetryAfter', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['  ', undefined],
    ['0', 0],
    ['1', 1000],
    [' 30 ', 30_000],
    ['3600', MAX_RETRY_AFTER_MS],
    ['86400', MAX_RETRY_AFTER_MS],
    ['99999999999999999999999', MAX_RETRY_AFTER_MS],
    ['-5', undefined],
    ['1.5', undefined],
    ['5s', undefined],
    ['tomorrow', undefined],
  ])('%j → %j ms', (value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });

  it.each([
    ['Mon, 01 Jan 2024 12:01:00 GMT', 60_000],
    ['Monday, 01-Jan-24 12:01:00 GMT', 60_000],
    ['Mon Jan  1 12:01:00 2024', 60_000],
    ['Mon, 01 Jan 2024 11:00:00 GMT', 0],
    ['Tue, 02 Jan 2024 12:00:00 GMT', MAX_RETRY_AFTER_MS],
  ])('HTTP-date %j → %i ms', (value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });

  it.each([
    'Mon, 1 Jan 2024 12:01:00 GMT',
    'Mon, 01 Jan 2024 12:01:00 UTC',
    'Mon, 01 Foo 2024 12:01:00 GMT',
    'Mon, 31 Feb 2024 12:01:00 GMT',
    'Mon, 01 Jan 2024 25:01:00 GMT',
    '2024-01-01T12:01:00Z',
  ])('%j is not an HTTP-date', (value) => {
    expect(parseHttpDate(value)).toBeUndefined();
    expect(parseRetryAfter(value, NOW)).toBeUndefined();
  });

  it('always lands in [0, 1 h] for any delta-seconds', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), (seconds) => {
        const ms = parseRetryAfter(String(seconds), NOW);
        expect(ms).toBeGreaterThanOrEqual(0);
        expect(ms).toBeLessThanOrEqual(MAX_RETRY_AFTER_MS);
      }),
    );
  });
});

describe('retryDelayMs', () => {
  const retryable: DeliveryOutcome = { type: 'retryable', reason: 'HTTP 503' };
  const random = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
  const policy = fc.record({
    maxAttempts: fc.integer({ min: 1, max: 30 }),
    baseDelayMs: fc.integer({ min: 1, max: 60_000 }),
    maxDelayMs: fc.integer({ min: 60_000, max: 3_600_000 }),
  });

  it('follows the default schedule: 1, 2, 4 … s with equal jitter', () => {
    expect(retryDelayMs(defaultRetryPolicy, 1, retryable, 0)).toBe(500);
    expect(retryDelayMs(defaultRetryPolicy, 1, retryable, 0.999999)).toBe(1000);
    expect(retryDelayMs(defaultRetryPolicy, 4, retryable, 0)).toBe(4000);
    expect(retryDelayMs(defaultRetryPolicy, 7, retryable, 0.5)).toBe(48_000);
    expect(retryDelayMs(defaultRetryPolicy, 30, retryable, 0.999999)).toBeLessThanOrEqual(600_000);
  });

  it('stays within [step/2, step] and never above maxDelayMs, for any random in [0, 1)', () => {
    fc.assert(
      fc.property(policy, fc.integer({ min: 1, max: 100 }), random, (p: RetryPolicy, attempt, r) => {
        const step = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (attempt - 1));
        const delay = retryDelayMs(p, attempt, retryable, r);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(step / 2));
        expect(delay).toBeLessThanOrEqual(step);
        expect(delay).toBeLessThanOrEqual(p.maxDelayMs);
        expect(Number.isInteger(delay)).toBe(true);
      }),
    );
  });

  it('grows (never shrinks) from one attempt to the next for the same random draw', () => {
    fc.assert(
      fc.property(policy, fc.integer({ min: 1, max: 60 }), random, (p: RetryPolicy, attempt, r) => {
        expect(retryDelayMs(p, attempt + 1, retryable, r)).toBeGreaterThanOrEqual(
          retryDelayMs(p, attempt, retryable, r),
        );
      }),
    );
  });

  it('doubles the minimum until the cap', () => {
    const minima = [1, 2, 3, 4, 5].map((attempt) => retryDelayMs(defaultRetryPolicy, attempt, retryable, 0));
    expect(minima).toEqual([500, 1000, 2000, 4000, 8000]);
  });

  it('waits at least as long as Retry-After asks, up to min(6 × maxDelayMs, 1 h)', () => {
    const asks = (retryAfterMs: number): DeliveryOutcome => ({
      type: 'retryable',
      reason: 'HTTP 429',
      retryAfterMs,
    });
    expect(retryDelayMs(defaultRetryPolicy, 1, asks(30_000), 0.5)).toBe(30_000);
    expect(retryDelayMs(defaultRetryPolicy, 5, asks(100), 0)).toBe(8000);
    expect(retryDelayMs(defaultRetryPolicy, 1, asks(MAX_RETRY_AFTER_MS * 5), 0)).toBe(MAX_RETRY_AFTER_MS);
    const short: RetryPolicy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(retryDelayMs(short, 1, asks(60_000), 0)).toBe(6000);
  });

  it('keeps Retry-After within its cap for any inputs', () => {
    fc.assert(
      fc.property(
        policy,
        fc.integer({ min: 1, max: 40 }),
        random,
        fc.nat(),
        (p: RetryPolicy, attempt, r, after) => {
          const delay = retryDelayMs(p, attempt, { type: 'retryable', reason: 'x', retryAfterMs: after }, r);
          expect(delay).toBeLessThanOrEqual(
            Math.max(p.maxDelayMs, Math.min(p.maxDelayMs * 6, MAX_RETRY_AFTER_MS)),
          );
        },
      ),
    );
  });

  it('treats a random outside [0, 1) as its nearest bound', () => {
    expect(retryDelayMs(defaultRetryPolicy, 1, retryable, -1)).toBe(500);
    expect(retryDelayMs(defaultRetryPolicy, 1, retryable, 7)).toBe(1000);
    expect(retryDelayMs(defaultRetryPolicy, 1, retryable, Number.NaN)).toBe(500);
    expect(retryDelayMs(defaultRetryPolicy, 0, retryable, 0)).toBe(500);
  });
});

describe('shouldRetry', () => {
  it('retries a retryable outcome until maxAttempts attempts were made', () => {
    const retryable: DeliveryOutcome = { type: 'retryable', reason: 'ETIMEDOUT' };
    expect(shouldRetry(defaultRetryPolicy, 1, retryable)).toBe(true);
    const last = defaultRetryPolicy.maxAttempts;
    expect(shouldRetry(defaultRetryPolicy, last - 1, retryable)).toBe(true);
    expect(shouldRetry(defaultRetryPolicy, last, retryable)).toBe(false);
    expect(shouldRetry(defaultRetryPolicy, 1, { type: 'final', reason: 'x', disableTrigger: false })).toBe(
      false,
    );
    expect(shouldRetry(defaultRetryPolicy, 1, { type: 'succeeded' })).toBe(false);
  });
});
