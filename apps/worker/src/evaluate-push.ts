/**
 * The push-event processor: loads the repository's triggers, decides for each enabled one
 * whether it fires (its filter and options), records every one that does not as
 * `untriggered` with the reason, and creates one delivery per trigger that fires. Delivery ids derive from (event, trigger), so a re-run of the same event
 * adds no second delivery.
 */
import {
  buildAcrPayload,
  deliveryIdFor,
  type RecordReason,
  recordTriggerFields,
  type Trigger,
  triggerOptionsOf,
  UNTRIGGERED_STATUS_CODE,
  untriggeredReason,
} from '@registry-triggers/core';
import {
  type DeliveryGateStore,
  type DeliveryJob,
  deliveryJobOptions,
  type NewAccessRecord,
  type PartitionedQueue,
  type PushEventJob,
  pushEventJobSchema,
  type RecordStore,
  type TriggerStore,
} from '@registry-triggers/store';
import { type Job, UnrecoverableError } from 'bullmq';
import type { WorkerMetrics } from './metrics.js';

export interface EvaluateDeps {
  triggers: TriggerStore;
  records: RecordStore;
  deliveries: PartitionedQueue<DeliveryJob>;
  /** Delivery gates: an ordered or coalesce trigger's deliveries take their place before their jobs exist. */
  gates?: DeliveryGateStore;
  region: string;
  timeZone: string;
  maxAttempts: number;
  metrics: WorkerMetrics;
  now?: () => number;
}

export function untriggeredRecord(
  trigger: Trigger,
  event: PushEventJob,
  now: number,
  reason: RecordReason,
): NewAccessRecord {
  return {
    ...recordTriggerFields(trigger),
    eventId: event.eventId,
    deliveryId: null,
    namespace: event.namespace,
    repository: event.repository,
    tag: event.tag,
    digest: event.digest,
    status: 'untriggered',
    statusCode: UNTRIGGERED_STATUS_CODE,
    attempt: 0,
    requestTime: now,
    durationMs: 0,
    requestHeaders: {},
    requestBody: '',
    responseHeaders: {},
    responseBody: '',
    reason,
    ...(event.requestId ? { requestId: event.requestId } : {}),
  };
}

export function createPushEventProcessor(deps: EvaluateDeps) {
  const now = deps.now ?? Date.now;
  return async (job: Job<PushEventJob>): Promise<{ matched: number; untriggered: number }> => {
    const parsed = pushEventJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid push event: ${parsed.error.message}`);
    const event = parsed.data;
    // A repository first seen here is created as the api would (never later than its arrival).
    // The tag moves to the pushed digest in the same script that loads the triggers.
    const { repository, triggers, previousDigest } = await deps.triggers.loadContext(
      event.namespace,
      event.repository,
      Math.min(event.pushedAt, event.receivedAt),
      event,
    );
    const matched: Trigger[] = [];
    const unmatched: Array<{ trigger: Trigger; reason: RecordReason }> = [];
    for (const trigger of triggers) {
      if (!trigger.enabled) continue;
      const reason = untriggeredReason(trigger, { ...event, previousDigest });
      if (reason === undefined) matched.push(trigger);
      else unmatched.push({ trigger, reason });
    }

    if (matched.length > 0) {
      const body = buildAcrPayload(
        { digest: event.digest, pushedAt: event.pushedAt, tag: event.tag },
        { ...repository, region: deps.region },
        deps.timeZone,
      );
      const eventKey = `${event.namespace}/${event.eventId}`;
      // Delivery gates (ordered, coalesce): each delivery's place by its push's acceptance, taken
      // before its job exists so that the job never runs unplaced (a re-run registers nothing new).
      await Promise.all(
        matched.map((trigger) => {
          const { ordered, coalesce } = triggerOptionsOf(trigger);
          if (!deps.gates || !(ordered || coalesce)) return undefined;
          return deps.gates.register(
            {
              namespace: event.namespace,
              repository: event.repository,
              triggerId: trigger.id,
              tag: event.tag,
              deliveryId: deliveryIdFor(eventKey, trigger.id),
              eventId: event.eventId,
              score: event.receivedAt,
            },
            { ordered, coalesce },
          );
        }),
      );
      await deps.deliveries.forRepository(event.namespace, event.repository).addBulk(
        matched.map((trigger) => {
          const deliveryId = deliveryIdFor(eventKey, trigger.id);
          const data: DeliveryJob = {
            deliveryId,
            eventId: event.eventId,
            namespace: event.namespace,
            repository: event.repository,
            triggerId: trigger.id,
            tag: event.tag,
            digest: event.digest,
            pushedAt: event.pushedAt,
            body,
            receivedAt: event.receivedAt,
            ...(previousDigest && triggerOptionsOf(trigger).onlyOnDigestChange ? { previousDigest } : {}),
            ...(event.requestId ? { requestId: event.requestId } : {}),
            ...(event.traceparent ? { traceparent: event.traceparent } : {}),
          };
          return {
            name: 'deliver',
            data,
            opts: { ...deliveryJobOptions(deps.maxAttempts), jobId: deliveryId },
          };
        }),
      );
    }
    const at = now();
    // One untriggered record per event and trigger, however often the event is evaluated
    // (a retried or stalled job, a write retried across a Redis failover). The arrival time
    // tells apart the same event id pushed again after the dedupe window: a new event.
    await Promise.all(
      unmatched.map(({ trigger, reason }) =>
        deps.records.append(
          untriggeredRecord(trigger, event, at, reason),
          at,
          `untriggered:${event.eventId}:${event.receivedAt}:${trigger.id}`,
        ),
      ),
    );
    deps.metrics.evaluations.inc({ outcome: matched.length > 0 ? 'matched' : 'untriggered' });
    deps.metrics.untriggered.inc(unmatched.length);
    return { matched: matched.length, untriggered: unmatched.length };
  };
}
