/**
 * The CloudEvents 1.0 this product emits for a push (the delivery option "CloudEvents") and
 * accepts back on POST /v1/events/cloudevents, so one Registry Triggers can feed another.
 * One owner for the type, the source and the shape: the emitter and the reader import these.
 */

export const CLOUDEVENTS_SPEC_VERSION = '1.0';
/** Structured mode: the whole event is the JSON body. */
export const CLOUDEVENTS_MEDIA_TYPE = 'application/cloudevents+json';
/** Batched mode: a JSON array of structured events. */
export const CLOUDEVENTS_BATCH_MEDIA_TYPE = 'application/cloudevents-batch+json';

/** The `type` of a push event; its `data` is the ACR delivery payload (buildAcrPayload). */
export const PUSH_CLOUDEVENT_TYPE = 'dev.registry-triggers.push';

const SOURCE_PREFIX = '/registry-triggers/';

/** The `source` of a push event: `/registry-triggers/<region>/<namespace>`. */
export function pushCloudEventSource(region: string, namespace: string): string {
  return `${SOURCE_PREFIX}${region}/${namespace}`;
}

export interface PushCloudEventInput {
  /** Unique per push and namespace (the event id): a receiver deduplicates on source + id. */
  id: string;
  region: string;
  namespace: string;
  /** epoch ms of the push */
  pushedAt: number;
  /** The ACR payload as buildAcrPayload wrote it. */
  payload: string;
}

/** A push as a structured-mode CloudEvent (the JSON body), attributes in a fixed order. */
export function buildPushCloudEvent(input: PushCloudEventInput): string {
  return JSON.stringify({
    specversion: CLOUDEVENTS_SPEC_VERSION,
    id: input.id,
    source: pushCloudEventSource(input.region, input.namespace),
    type: PUSH_CLOUDEVENT_TYPE,
    time: new Date(input.pushedAt).toISOString(),
    datacontenttype: 'application/json',
    data: JSON.parse(input.payload) as unknown,
  });
}
