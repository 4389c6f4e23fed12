/**
 * The push-event processor: loads the repository's triggers, decides for each enabled one
 * whether it fires (its filter and options), records every one that does not as
 * `untriggered` with the reason, and creates one delivery per trigger that fires. Delivery ids derive from (event, trigger), so a re-run of the same event
 * adds no second delivery.
 */
import {
  attemptLimit,
  deliveryIdFor,
  type RecordReason,
  type RetryPolicy,
  type Trigger,
  triggerOptionsOf,
  untriggeredReason,
  untriggeredRecord,
} from '@registry-triggers/core';
import {
  type DeliveryGateStore,
  type DeliveryJob,
  deliveryJobOptions,
  type PartitionedQueue,
  type PushEventJob,
  pushEventJobSchema,
  type RecordStore,
  type TriggerStore,
} from '@registry-triggers/store';
import { type Job, UnrecoverableError } from 'bullmq';
import { deliveryBody } from './delivery-body.js';
import type { WorkerMetrics } from './metrics.js';

export interface EvaluateDeps {
  triggers: TriggerStore;
  records: RecordStore;
  deliveries: PartitionedQueue<DeliveryJob>;
  /** Delivery gates: an ordered or coalesce trigger's deliveries take their place before their jobs exist. */
  gates?: DeliveryGateStore;
  region: string;
  timeZone: string;
  /** The delivery retry policy: its attempt limit goes into the delivery jobs' options. */
  policy: RetryPolicy;
  metrics: WorkerMetrics;
  now?: () => number;
}

export function createPushEventProcessor(deps: EvaluateDeps) {
  const now = deps.now ?? Date.now;
  const jobOptions = deliveryJobOptions(attemptLimit(deps.policy));
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
      // Built once for every delivery of the event, and kept on each job: every retry sends these bytes.
      const body = deliveryBody(event, repository, deps);
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
      const jobs = matched.map((trigger) => {
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
        return { name: 'deliver', data, opts: { ...jobOptions, jobId: deliveryId } };
      });
      const queue = deps.deliveries.forRepository(event.namespace, event.repository);
      // One job is one script; addBulk wraps its scripts in MULTI/EXEC, two commands more.
      if (jobs.length === 1) await queue.add(jobs[0]!.name, jobs[0]!.data, jobs[0]!.opts);
      else await queue.addBulk(jobs);
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
