/**
 * Deliveries as CloudEvents 1.0 (HTTP protocol binding), for receivers such as Knative or
 * Argo Events: binary mode (the ACR JSON as the body, the attributes as `ce-*` headers) or
 * structured mode (one `application/cloudevents+json` object holding the ACR JSON as `data`).
 * The type and source are the ones the CloudEvents ingest route accepts.
 */
import { z } from 'zod';

export const CLOUDEVENTS_PUSH_TYPE = 'dev.registry-triggers.push';

/** `/registry-triggers/<region>/<namespace>`: a URI-reference, unique per namespace of a deployment. */
export function cloudEventSource(region: string, namespace: string): string {
  return `/registry-triggers/${encodeURIComponent(region)}/${encodeURIComponent(namespace)}`;
}

export const DELIVERY_FORMATS = ['acr', 'cloudevents', 'cloudevents-structured'] as const;
export const deliveryFormatSchema = z.enum(DELIVERY_FORMATS, {
  error: `format must be one of ${DELIVERY_FORMATS.join(', ')}`,
});
export type DeliveryFormat = z.infer<typeof deliveryFormatSchema>;

export interface PushEventAttributes {
  /** The webhook-id, which is also the CloudEvent id: the same on every retry. */
  id: string;
  region: string;
  namespace: string;
  repository: string;
  tag: string;
  /** epoch ms */
  pushedAt: number;
}

export interface FormattedDelivery {
  /** Request headers of the format, Content-Type included (lower-case names). */
  headers: Record<string, string>;
  /** The exact bytes to send (and to sign). */
  body: string;
}

function attributesOf(event: PushEventAttributes) {
  return {
    specversion: '1.0',
    id: event.id,
    source: cloudEventSource(event.region, event.namespace),
    type: CLOUDEVENTS_PUSH_TYPE,
    subject: `${event.repository}:${event.tag}`,
    time: new Date(event.pushedAt).toISOString(),
  };
}

/** The request of one delivery in `format`, around the ACR JSON body. */
export function formatDelivery(
  format: DeliveryFormat,
  acrBody: string,
  event: PushEventAttributes,
): FormattedDelivery {
  switch (format) {
    case 'acr':
      return { headers: { 'content-type': 'application/json' }, body: acrBody };
    case 'cloudevents': {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      for (const [name, value] of Object.entries(attributesOf(event))) headers[`ce-${name}`] = value;
      return { headers, body: acrBody };
    }
    case 'cloudevents-structured': {
      // The ACR bytes go in unchanged as `data`: the envelope is written around them.
      const envelope = JSON.stringify({ ...attributesOf(event), datacontenttype: 'application/json' });
      return {
        headers: { 'content-type': 'application/cloudevents+json' },
        body: `${envelope.slice(0, -1)},"data":${acrBody}}`,
      };
    }
  }
}
