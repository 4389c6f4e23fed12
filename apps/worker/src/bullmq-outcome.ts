/**
 * The one place a delivery run's end is handed to BullMQ. Everything before decides in
 * values (core's decide.ts, settle.ts); here those become BullMQ's vocabulary:
 * - complete: return the value (the job completes);
 * - retry: a thrown RetryLater, whose delay the backoff strategy below reads back. A retry
 *   must go through BullMQ's own retry because that is what counts attempts (`attemptsMade`
 *   is the attempt number of the write ids and the cancel states); `moveToDelayed` does not;
 * - wait: `moveToDelayed` + DelayedError: the job comes back later with no attempt used
 *   (a gate turned it away, its claim is not replicated yet, its record awaits a write);
 * - fail: UnrecoverableError, never retried.
 */
import type { AfterAttempt } from '@registry-triggers/core';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';

/** Thrown for a retry: BullMQ retries the job after `delayMs` (read by deliveryBackoff). */
export class RetryLater extends Error {
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
    this.name = 'RetryLater';
  }
}

export type RunEnd<Value> =
  | { kind: 'complete'; value: Value }
  | { kind: 'retry'; reason: string; delayMs: number }
  | { kind: 'wait'; until: number }
  | { kind: 'fail'; reason: string }
  /** The job is no longer ours (its claim was lost in a failover): a plain error, another worker runs it. */
  | { kind: 'abandon'; reason: string };

/** The end of a run whose attempt was decided; `value` is what the job completes with. */
export function endFor<Value>(decision: AfterAttempt, value: Value): RunEnd<Value> {
  if (decision.action === 'done') return { kind: 'complete', value };
  if (decision.action === 'retry')
    return { kind: 'retry', reason: decision.reason, delayMs: decision.delayMs };
  return { kind: 'fail', reason: decision.reason };
}

/** Carries out a run's end: answers the completion value, or throws what BullMQ reads. */
export async function carryOut<Value>(
  job: Job,
  token: string | undefined,
  end: RunEnd<Value>,
): Promise<Value> {
  switch (end.kind) {
    case 'complete':
      return end.value;
    case 'retry':
      throw new RetryLater(end.reason, end.delayMs);
    case 'wait':
      await job.moveToDelayed(end.until, token);
      throw new DelayedError();
    case 'fail':
      throw new UnrecoverableError(end.reason);
    case 'abandon':
      throw new Error(end.reason);
  }
}

/** The delivery queue's backoff strategy (type `delivery-policy` in the catalog's job options). */
export const deliveryBackoff = (fallbackMs: number) => ({
  backoffStrategy: (_attemptsMade: number, _type?: string, error?: Error) =>
    error instanceof RetryLater ? error.delayMs : fallbackMs,
});
