/**
 * What a delivery does next, as pure functions: before an attempt (send it, or end it unsent
 * because its trigger is gone or disabled) and after one (done, retry after a delay, or fail,
 * disabling the trigger on 410). The worker carries the decision out; nothing here does I/O,
 * so every rule of the delivery path is tested in microseconds.
 */
import type { AccessRecord, RecordStatus } from './access-record.js';
import { type DeliveryOutcome, type RetryPolicy, retryDelayMs, shouldRetry } from './retry-policy.js';
import type { Trigger } from './trigger.js';

/** What a delivery job says of itself that the decisions read. */
export interface DeliveryFacts {
  /** A test delivery: sent once, whatever the trigger's state, never retried. */
  singleAttempt?: boolean | undefined;
}

export type BeforeAttempt =
  | { action: 'send'; trigger: Trigger }
  /**
   * The trigger was deleted: nothing is sent. `recordEnd`: the delivery has earlier attempts
   * in the log, so a `failed` record ends its story there (one never attempted has none).
   */
  | { action: 'skip'; reason: 'trigger-deleted'; recordEnd: boolean }
  | { action: 'skip'; reason: 'disabled'; trigger: Trigger; note: string };

/** `attempt` is 1-based: the attempt this run would make. */
export function decideBeforeAttempt(
  trigger: Trigger | undefined,
  facts: DeliveryFacts,
  attempt: number,
): BeforeAttempt {
  if (!trigger) {
    return { action: 'skip', reason: 'trigger-deleted', recordEnd: attempt > 1 && !facts.singleAttempt };
  }
  // A test delivery of a disabled trigger is sent: testing is how its owner checks the receiver
  // before enabling it again.
  if (!trigger.enabled && !facts.singleAttempt) {
    const why = trigger.disabledReason ? ` (${trigger.disabledReason})` : '';
    return { action: 'skip', reason: 'disabled', trigger, note: `not sent: the trigger is disabled${why}` };
  }
  return { action: 'send', trigger };
}

export type AfterAttempt =
  | { action: 'done' }
  | { action: 'retry'; reason: string; delayMs: number }
  | { action: 'fail'; reason: string; disableTrigger: boolean };

/** After the attempt numbered `attempt` ended with `outcome`; `random` in [0, 1) spreads the retries. */
export function decideAfterAttempt(
  policy: RetryPolicy,
  attempt: number,
  outcome: DeliveryOutcome,
  facts: DeliveryFacts,
  random: number,
): AfterAttempt {
  if (outcome.type === 'succeeded') return { action: 'done' };
  if (!facts.singleAttempt && shouldRetry(policy, attempt, outcome)) {
    return {
      action: 'retry',
      reason: outcome.reason,
      delayMs: retryDelayMs(policy, attempt, outcome, random),
    };
  }
  return {
    action: 'fail',
    reason: outcome.reason,
    disableTrigger: outcome.type === 'final' && outcome.disableTrigger,
  };
}

/** The access-log status of an attempt that ended with this decision. */
export function recordStatusOf(decision: AfterAttempt): Exclude<RecordStatus, 'untriggered'> {
  if (decision.action === 'done') return 'succeeded';
  return decision.action === 'retry' ? 'retrying' : 'failed';
}

/**
 * How a job ends whose attempt was already sent and recorded (a run again after a stall, or a
 * settle that could not write at once): the way the record says, keeping the next attempt to
 * the time the record announced.
 */
export function decideFromRecord(
  policy: RetryPolicy,
  record: Pick<AccessRecord, 'status' | 'note' | 'statusCode' | 'nextAttemptAt'>,
  attempt: number,
  nowMs: number,
  random: number,
): AfterAttempt {
  if (record.status === 'succeeded') return { action: 'done' };
  const reason = record.note ?? `attempt ${attempt} ended ${record.status} (${record.statusCode})`;
  if (record.status === 'retrying') {
    const delayMs =
      record.nextAttemptAt === undefined
        ? retryDelayMs(policy, attempt, { type: 'retryable', reason }, random)
        : Math.max(0, record.nextAttemptAt - nowMs);
    return { action: 'retry', reason, delayMs };
  }
  // A 410's trigger was disabled before its record was written: nothing left to disable.
  return { action: 'fail', reason, disableTrigger: false };
}
