/**
 * The worker's traces: a span per push evaluation and one per delivery attempt, children of
 * the api's ingest span through the traceparent their job carries, and the W3C traceparent
 * of the attempt's span sent to the receiver.
 */
import { type Span, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import {
  contextFrom,
  startTracing,
  type Tracing,
  type TracingEnv,
  traceparentOf,
  withSpan,
} from '@registry-triggers/http-kit';
import type { DeliveryJob, PushEventJob } from '@registry-triggers/store';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { RetryLater } from './bullmq-outcome.js';

export const startWorkerTracing = (env: TracingEnv): Promise<Tracing> => startTracing('worker', env);

type Processor<D, R> = (job: Job<D>, token?: string) => Promise<R>;

function jobAttributes(job: Job<PushEventJob | DeliveryJob>) {
  const data = job.data;
  return {
    'messaging.system': 'bullmq',
    'messaging.destination.name': job.queueName,
    'registry_triggers.event_id': data.eventId,
    'registry_triggers.namespace': data.namespace,
    'registry_triggers.repository': data.repository,
    ...(data.requestId ? { 'registry_triggers.request_id': data.requestId } : {}),
  };
}

/** How a delivery run ended, as BullMQ was told: a span status and an outcome attribute. */
function endedDelivery(span: Span, error: unknown): void {
  if (error instanceof DelayedError) {
    span.setAttribute('registry_triggers.outcome', 'postponed');
    return;
  }
  span.setAttribute('registry_triggers.outcome', error instanceof RetryLater ? 'retrying' : 'failed');
  const kind = error instanceof RetryLater || error instanceof UnrecoverableError ? error.name : 'Error';
  span.setStatus({ code: SpanStatusCode.ERROR, message: kind });
}

export function tracedPushEvaluation<R>(
  tracer: Tracer,
  process: Processor<PushEventJob, R>,
): Processor<PushEventJob, R> {
  return (job, token) =>
    withSpan(
      tracer,
      'evaluate push',
      { kind: SpanKind.CONSUMER, attributes: jobAttributes(job) },
      contextFrom(job.data.traceparent),
      () => process(job, token),
    );
}

export function tracedDelivery<R>(
  tracer: Tracer,
  process: Processor<DeliveryJob, R>,
): Processor<DeliveryJob, R> {
  return (job, token) =>
    withSpan(
      tracer,
      'deliver',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          ...jobAttributes(job),
          'http.request.method': 'POST',
          'registry_triggers.delivery_id': job.data.deliveryId,
          'registry_triggers.trigger_id': job.data.triggerId,
          'registry_triggers.attempt': job.attemptsMade + 1,
        },
      },
      contextFrom(job.data.traceparent),
      async (span) => {
        const result = await process(job, token);
        span.setAttribute('registry_triggers.outcome', 'succeeded');
        return result;
      },
      endedDelivery,
    );
}

/** The `traceparent` header of the delivery attempt running now; none when tracing is off. */
export function traceHeaders(): Record<string, string> {
  const traceparent = traceparentOf();
  return traceparent ? { traceparent } : {};
}
