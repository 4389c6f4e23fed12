/**
 * What one delivery attempt means and when to try again: the only owner of the
 * retry schedule and the attempt limit. decide.ts turns a DeliveryOutcome into
 * what the job does next; the worker maps that onto BullMQ.
 */
import { parseHttpDate } from './retry-date.js';

export type AttemptResult =
  | { kind: 'response'; status: number; retryAfter?: string | undefined }
  /** code e.g. ETIMEDOUT, ECONNREFUSED, CERT_ERROR, UND_ERR_HEADERS_TIMEOUT, SSRF_BLOCKED */
  | { kind: 'error'; code: string; retryable: boolean };

export type DeliveryOutcome =
  | { type: 'succeeded' }
  | { type: 'retryable'; reason: string; retryAfterMs?: number }
  | { type: 'final'; reason: string; disableTrigger: boolean };

export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

// Statuses that say "not now" rather than "never": timeout, too early, rate limited.
const RETRYABLE_CLIENT_STATUSES: ReadonlySet<number> = new Set([408, 425, 429]);

export function classifyAttempt(result: AttemptResult, nowMs: number): DeliveryOutcome {
  if (result.kind === 'error') {
    return result.retryable
      ? { type: 'retryable', reason: result.code }
      : { type: 'final', reason: result.code, disableTrigger: false };
  }
  const { status } = result;
  if (status >= 200 && status <= 299) return { type: 'succeeded' };
  if (status >= 300 && status <= 399) {
    return { type: 'final', reason: `HTTP ${status}: redirects are not followed`, disableTrigger: false };
  }
  if (RETRYABLE_CLIENT_STATUSES.has(status) || (status >= 500 && status <= 599)) {
    const retryAfterMs = parseRetryAfter(result.retryAfter, nowMs);
    const reason = `HTTP ${status}`;
    return retryAfterMs === undefined
      ? { type: 'retryable', reason }
      : { type: 'retryable', reason, retryAfterMs };
  }
  if (status === 410) {
    return {
      type: 'final',
      reason: 'HTTP 410: the receiver answered Gone',
      disableTrigger: true,
    };
  }
  if (status >= 400 && status <= 499) {
    return { type: 'final', reason: `HTTP ${status}: client errors are not retried`, disableTrigger: false };
  }
  // 1xx as a final answer, or a number outside HTTP: the receiver is broken, not busy.
  return { type: 'final', reason: `HTTP ${status}: not a valid final status`, disableTrigger: false };
}

const clampRetryAfter = (ms: number): number => Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);

/** Retry-After as delta-seconds or an HTTP-date → ms from now, clamped to [0, 1 h]. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) return clampRetryAfter(Number(text) * 1000);
  const at = parseHttpDate(text);
  return at === undefined ? undefined : clampRetryAfter(at - nowMs);
}

export interface RetryPolicy {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * 12 attempts: 11 waits of 1, 2, 4 … 512 s, capped at 10 min (each between half
 * and all of that), about 17 to 34 minutes in total before Retry-After: enough to
 * ride out a receiver's restart or a short outage.
 */
export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 12,
  baseDelayMs: 1000,
  maxDelayMs: 10 * 60 * 1000,
};

/**
 * How many attempts a delivery gets: the policy's, or one for a test delivery. The queue's
 * job options take their `attempts` from here, so the limit has one owner.
 */
export function attemptLimit(policy: RetryPolicy, singleAttempt = false): number {
  return singleAttempt ? 1 : policy.maxAttempts;
}

export function shouldRetry(policy: RetryPolicy, attempt: number, outcome: DeliveryOutcome): boolean {
  return outcome.type === 'retryable' && attempt < policy.maxAttempts;
}

/**
 * Delay before the next attempt. "Equal jitter": half of the exponential step
 * is fixed, half random, so delays spread receivers' load yet never shrink
 * from one attempt to the next for the same random draw. A receiver's
 * Retry-After wins when it asks for longer, up to min(6 × maxDelayMs, 1 h).
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  outcome: DeliveryOutcome,
  random: number,
): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  const jitter = Math.min(Math.max(Number.isFinite(random) ? random : 0, 0), 1);
  const computed = Math.round(step / 2 + (step / 2) * jitter);
  if (outcome.type !== 'retryable' || outcome.retryAfterMs === undefined) return computed;
  const retryAfterCap = Math.min(policy.maxDelayMs * 6, MAX_RETRY_AFTER_MS);
  return Math.max(computed, Math.min(outcome.retryAfterMs, retryAfterCap));
}
