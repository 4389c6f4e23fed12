/**
 * A delivery whose worker process died during it too many times is failed by BullMQ
 * without our processor running: this writes its record, so no accepted event ends
 * without a trace in the access log.
 */
import { unsentRecord } from '@registry-triggers/core';
import { deliveryJobSchema, type TriggerStore } from '@registry-triggers/store';
import type { Job } from 'bullmq';
import type { Settler } from './settle.js';

export function createLostDeliveryRecorder(deps: {
  triggers: TriggerStore;
  settler: Settler;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;
  return async (job: Job): Promise<void> => {
    const parsed = deliveryJobSchema.safeParse(job.data);
    if (!parsed.success) return;
    const data = parsed.data;
    const trigger = await deps.triggers.get(data.namespace, data.repository, data.triggerId);
    if (!trigger) return;
    await deps.settler.settleUnsent(
      unsentRecord(trigger, data, {
        attempt: job.attemptsMade + 1,
        at: now(),
        statusCode: 'WORKER_LOST',
        note: 'the worker process running this delivery stopped too many times; redeliver it from the access log',
        requestBody: data.body,
      }),
    );
  };
}
