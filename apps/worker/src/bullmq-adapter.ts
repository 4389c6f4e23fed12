/**
 * What the worker needs to know of BullMQ beyond running jobs, through its public API, in
 * one module so an upgrade has one place to check.
 */
import type { Job } from 'bullmq';

/**
 * Whether this worker still holds the job's lock: `extendLock` renews it only for the token
 * that holds it (1) and answers 0 otherwise, in one script. Used after a Redis failover, where
 * a promoted replica may not know our claim and another worker may have taken the job.
 */
export async function holdsLock(job: Job, token: string, lockDurationMs: number): Promise<boolean> {
  return (await job.extendLock(token, lockDurationMs)) === 1;
}

/**
 * BullMQ's reason for a job whose worker died while running it more often than allowed. Its
 * stall check leaves it on the job (`deferredFailure`), and the next worker to take the job
 * fails it with this reason without running the processor.
 */
export const STALLED_TOO_OFTEN = 'job stalled more than allowable limit';

/** Whether a `failed` event is BullMQ failing the job for its stalls, not our processor. */
export function failedForStalls(job: Job, error: Error): boolean {
  return (
    job.deferredFailure !== undefined && job.deferredFailure !== '' && error.message === job.deferredFailure
  );
}
