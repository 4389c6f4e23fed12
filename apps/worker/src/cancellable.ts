/**
 * Deliveries that a user can cancel: each attempt is claimed before it runs and released
 * after (store/delivery-states.ts), so an accepted cancel is never followed by a request.
 */
import type { DeliveryJob, DeliveryStates } from '@registry-triggers/store';
import { type Job, UnrecoverableError } from 'bullmq';
import { RetryLater } from './bullmq-outcome.js';

export const CANCELLED_REASON = 'the delivery was cancelled';

/** The first run of a delivery's first attempt: not claimed up front (withCancellation). */
const isFirstRun = (job: Job<DeliveryJob>) => job.attemptsMade === 0 && job.stalledCounter === 0;

/**
 * For the processor: claims a first run that is about to record a retry, so a cancel that
 * sees that record waits for the attempt's end as it would for any claimed attempt, then is
 * accepted once the delivery waits. Best effort, as every state write after a send.
 */
export function claimBeforeRetryRecord(states: DeliveryStates, claimMs: number) {
  return async (job: Job<DeliveryJob>): Promise<void> => {
    if (!isFirstRun(job) || job.data.singleAttempt) return;
    await states.claim(job.data.namespace, job.data.deliveryId, claimMs).catch(() => {});
  };
}

export function withCancellation<Result>(
  states: DeliveryStates,
  /** How long a claim lasts if its worker dies during the attempt: past the longest attempt. */
  claimMs: number,
  process: (job: Job<DeliveryJob>, token?: string) => Promise<Result>,
): (job: Job<DeliveryJob>, token?: string) => Promise<Result> {
  return async (job, token) => {
    const { namespace, deliveryId, singleAttempt } = job.data ?? {};
    // A test push has no retries to cancel; a malformed job is refused by the processor.
    if (singleAttempt || typeof namespace !== 'string' || typeof deliveryId !== 'string') {
      return process(job, token);
    }
    // A delivery's first run has nothing to cancel yet: a cancel names a `retrying` record of
    // the delivery, and there is none before this attempt's own. So it is claimed only once it
    // is to be retried, just before that record is written (claimBeforeRetryRecord), and an
    // attempt that succeeds saves the claim and its release: two round trips on the busiest path.
    if (isFirstRun(job)) {
      try {
        return await process(job, token);
      } catch (error) {
        if (error instanceof RetryLater) await states.waitForRetry(namespace, deliveryId, 1).catch(() => {});
        throw error;
      }
    }
    const before = await states.claim(namespace, deliveryId, claimMs);
    if (before.kind === 'cancelled') throw new UnrecoverableError(CANCELLED_REASON);
    // The attempt is over: a failed state write must not fail the job (it would be sent
    // again); a claim left behind expires, and a cancel then asks the queue.
    const settle = (write: Promise<void>) => write.catch(() => {});
    try {
      const result = await process(job, token);
      await settle(states.finish(namespace, deliveryId));
      return result;
    } catch (error) {
      if (error instanceof RetryLater)
        await settle(states.waitForRetry(namespace, deliveryId, job.attemptsMade + 1));
      else if (error instanceof UnrecoverableError) await settle(states.finish(namespace, deliveryId));
      // Postponed before sending (DelayedError), or an error BullMQ retries: as it was.
      else await settle(states.restore(namespace, deliveryId, before));
      throw error;
    }
  };
}
