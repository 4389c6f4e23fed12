/**
 * `POST .../triggers/{id}/test` sends a request to somebody's server at the caller's word:
 * without a limit one token could make the service flood a third party. Counted per token in
 * Redis, so the limit holds however many api replicas share the work.
 */
import { HttpError, tokenDigestOf } from '@registry-triggers/http-kit';
import { keys, type RedisConnection, takeFromWindow } from '@registry-triggers/store';
import type { Response } from 'express';

const WINDOW_MS = 60_000;

export type TestDeliveryLimit = (res: Response) => Promise<void>;

/** Throws a 429 problem (with Retry-After) once the request's token has sent `perMinute` tests in the last minute. */
export function testDeliveryLimit(redis: RedisConnection, perMinute: number): TestDeliveryLimit {
  return async (res) => {
    const decision = await takeFromWindow(
      redis,
      keys.testDeliveryRate(tokenDigestOf(res)),
      perMinute,
      WINDOW_MS,
    );
    if (decision.allowed) return;
    const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    throw new HttpError(
      429,
      'rate-limited',
      `this token may send ${perMinute} test deliveries per minute (TEST_DELIVERIES_PER_MINUTE); retry in ${seconds} s`,
      undefined,
      { 'Retry-After': String(seconds) },
    );
  };
}
