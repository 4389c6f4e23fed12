/**
 * The CloudEvents 1.0 this product emits for a push (a trigger's `format` "cloudevents" or
 * "cloudevents-structured", HTTP protocol binding) and accepts back on POST
 * /v1/events/cloudevents, so one Registry Triggers can feed another (or Knative, Argo Events).
 * One owner for the type, the source and the shape: the emitter and the reader import these.
 */
import { z } from 'zod';

export const CLOUDEVENTS_SPEC_VERSION = '1.0';
/** Structured mode: the whole event is the JSON body. */
export const CLOUDEVENTS_MEDIA_TYPE = 'application/cloudevents+json';
/** Batched mode: a JSON array of structured events. */
export const CLOUDEVENTS_BATCH_MEDIA_TYPE = 'application/cloudevents-batch+json';

/** The `type` of a push event; its `data` is the ACR delivery payload (buildAcrPayload). */
export const PUSH_CLOUDEVENT_TYPE = 'dev.registry-triggers.push';

const SOURCE_PREFIX = '/registry-triggers/';

/**
 * The `source` of a push event: `/registry-triggers/<region>/<namespace>`, a URI-reference
 * unique per namespace of a deployment (each part escaped as a path segment).
 */
export function pushCloudEventSource(region: string, namespace: string): string {
  return `${SOURCE_PREFIX}${encodeURIComponent(region)}/${encodeURIComponent(namespace)}`;
}

export const DELIVERY_FORMATS = ['acr', 'cloudevents', 'cloudevents-structured'] as const;
export const deliveryFormatSchema = z.enum(DELIVERY_FORMATS, {
  error: `format must be one of ${DELIVERY_FORMATS.join(', ')}`,
});
export type DeliveryFormat = z.infer<typeof deliveryFormatSchema>;

export interface PushCloudEventAttributes {
  /** Unique per push and namespace (a delivery's webhook-id): a receiver deduplicates on source + id. */
  id: string;
  region: string;
  namespace: string;
  /** epoch ms of the push */
  pushedAt: number;
  /** `<repository>:<tag>`, when known. */
  subject?: string | undefined;
}

export interface PushCloudEventInput extends PushCloudEventAttributes {
  /** The ACR payload as buildAcrPayload wrote it. */
  payload: string;
}

/** The context attributes of a push event, in a fixed order. */
function attributesOf(event: PushCloudEventAttributes): Record<string, string> {
  return {
    specversion: CLOUDEVENTS_SPEC_VERSION,
    id: event.id,
    source: pushCloudEventSource(event.region, event.namespace),
    type: PUSH_CLOUDEVENT_TYPE,
    ...(event.subject === undefined ? {} : { subject: event.subject }),
    time: new Date(event.pushedAt).toISOString(),
  };
}

/**
 * A push as a structured-mode CloudEvent (the JSON body): the payload's bytes go in unchanged
 * as `data`, the envelope is written around them.
 */
export function buildPushCloudEvent(input: PushCloudEventInput): string {
  const envelope = JSON.stringify({ ...attributesOf(input), datacontenttype: 'application/json' });
  return `${envelope.slice(0, -1)},"data":${input.payload}}`;
}

export interface FormattedDelivery {
  /** Request headers of the format, Content-Type included (lower-case names). */
  headers: Record<string, string>;
  /** The exact bytes to send (and to sign). */
  body: string;
}

/** The request of one delivery in `format`, around the ACR JSON body. */
export function formatDelivery(
  format: DeliveryFormat,
  acrBody: string,
  event: PushCloudEventAttributes,
): FormattedDelivery {
  switch (format) {
    case 'acr':
      return { headers: { 'content-type': 'application/json' }, body: acrBody };
    case 'cloudevents': {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      for (const [name, value] of Object.entries(attributesOf(event))) headers[`ce-${name}`] = value;
      return { headers, body: acrBody };
    }
    case 'cloudevents-structured':
      return {
        headers: { 'content-type': CLOUDEVENTS_MEDIA_TYPE },
        body: buildPushCloudEvent({ ...event, payload: acrBody }),
      };
  }
}
