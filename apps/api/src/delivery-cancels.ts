/**
 * Cancelling a delivery's pending retries: accepted only while no attempt is being sent
 * (store/delivery-states.ts), then ended in the access log with a `failed` record whose
 * statusCode is CANCELLED, and its waiting job taken off the queue.
 */
import { type AccessRecord, finalRecordAfter, type Trigger } from '@registry-triggers/core';
import { HttpError } from '@registry-triggers/http-kit';
import type { DeliveryState, DeliveryStates, RecordStore } from '@registry-triggers/store';
import type { DeliveryRequests } from './delivery-requests.js';

export const CANCELLED_STATUS_CODE = 'CANCELLED';

/** Job states in which a delivery still has an attempt to come. */
const PENDING_JOB_STATES = new Set(['delayed', 'waiting', 'prioritized', 'waiting-children']);

export interface DeliveryCancelsOptions {
  /** How long a cancel waits for an attempt being sent right now to end. */
  waitForAttemptMs: number;
  pollMs?: number;
}

export class DeliveryCancels {
  constructor(
    private readonly states: DeliveryStates,
    private readonly records: RecordStore,
    private readonly deliveries: DeliveryRequests,
    private readonly options: DeliveryCancelsOptions,
  ) {}

  /** Cancels the delivery of `record` (one of the trigger's) and answers its final record. */
  async cancel(trigger: Trigger, record: AccessRecord): Promise<AccessRecord> {
    const { deliveryId } = record;
    if (deliveryId === null || record.status === 'untriggered') {
      throw new HttpError(
        409,
        'record-untriggered',
        `record ${record.id} is untriggered: tag "${record.tag}" did not match the filter of trigger ${trigger.id}, so there is no delivery to cancel`,
      );
    }
    if (record.status !== 'retrying') throw this.finished(record, record.status);
    const deadline = Date.now() + this.options.waitForAttemptMs;
    for (;;) {
      const job = await this.deliveries.jobOf(trigger, deliveryId);
      const pending = job ? PENDING_JOB_STATES.has(await job.getState()) : false;
      const result = await this.states.cancel(trigger.namespace, deliveryId, pending);
      if (result.accepted) {
        // Off the queue if it still waits there; a worker taking it meanwhile finds it cancelled.
        if (job) await job.remove().catch(() => {});
        return this.recordCancel(record, result.before);
      }
      if (result.reason !== 'sending') throw this.finished(record, result.reason);
      if (Date.now() >= deadline) {
        throw new HttpError(
          409,
          'attempt-in-flight',
          `delivery ${deliveryId} is sending an attempt right now; cancel again once it has ended`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, this.options.pollMs ?? 100));
    }
  }

  private finished(record: AccessRecord, how: string): HttpError {
    const ended =
      how === 'cancelled' ? 'was cancelled already' : how === 'finished' ? 'has ended' : `ended ${how}`;
    return new HttpError(
      409,
      'delivery-finished',
      `delivery ${record.deliveryId} ${ended}: it has no pending retries to cancel`,
    );
  }

  private async recordCancel(record: AccessRecord, before: DeliveryState): Promise<AccessRecord> {
    const lastAttempt = before.kind === 'waiting' ? before.attempt : record.attempt;
    const now = Date.now();
    const final = finalRecordAfter(record, {
      attempt: lastAttempt + 1,
      at: now,
      statusCode: CANCELLED_STATUS_CODE,
      note: 'not sent: the delivery was cancelled',
      requestBody: record.requestBody,
    });
    // One write id per delivery: a cancel retried after a lost reply adds one record.
    const id = await this.records.append(final, now, `cancel:${record.deliveryId}`);
    return { id, ...final };
  }
}
