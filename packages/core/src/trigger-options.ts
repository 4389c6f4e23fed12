/**
 * The per-trigger delivery options beyond Alibaba Cloud's trigger: each one absent means its
 * default, which is ACR's behaviour except where noted, so triggers stored before an option
 * existed keep working as they did.
 */
import { z } from 'zod';
import type { RecordReason } from './access-record.js';
import { isArtifactTag } from './artifact-tags.js';
import { type DeliveryFormat, deliveryFormatSchema, PUSH_CLOUDEVENT_TYPE } from './cloudevents.js';
import { matchTrigger } from './match.js';
import type { Trigger } from './trigger.js';

/** The request header of an onlyOnDigestChange delivery that names the digest the tag had before. */
export const PREVIOUS_DIGEST_HEADER = 'X-Registry-Previous-Digest';

export const MIN_RATE_PER_SECOND = 0.1;
export const MAX_RATE_PER_SECOND = 1000;
export const MAX_RATE_IN_FLIGHT = 256;

export const rateLimitSchema = z.strictObject(
  {
    perSecond: z
      .number({ error: 'rateLimit.perSecond must be a number' })
      .min(MIN_RATE_PER_SECOND, `rateLimit.perSecond must be at least ${MIN_RATE_PER_SECOND}`)
      .max(MAX_RATE_PER_SECOND, `rateLimit.perSecond must be at most ${MAX_RATE_PER_SECOND}`),
    maxInFlight: z
      .number({ error: 'rateLimit.maxInFlight must be a whole number' })
      .int('rateLimit.maxInFlight must be a whole number')
      .min(1, 'rateLimit.maxInFlight must be at least 1')
      .max(MAX_RATE_IN_FLIGHT, `rateLimit.maxInFlight must be at most ${MAX_RATE_IN_FLIGHT}`)
      .exactOptional(),
  },
  { error: 'rateLimit must be an object { perSecond, maxInFlight? }' },
);
export type RateLimit = z.infer<typeof rateLimitSchema>;

export const triggerOptionShape = {
  skipArtifactTags: z.boolean({ error: 'skipArtifactTags must be true or false' }).exactOptional().meta({
    description:
      'Default true: a push of a signature, attestation or SBOM tag (sha256-<64 hex> or sha512-<64 hex>, optionally .sig/.att/.sbom) does not fire; false fires for every tag, as ACR does.',
  }),
  onlyOnDigestChange: z
    .boolean({ error: 'onlyOnDigestChange must be true or false' })
    .exactOptional()
    .meta({
      description: `Default false: true does not fire for a push that leaves the tag on the digest it had; a delivery of a tag that moved carries the digest before in ${PREVIOUS_DIGEST_HEADER} (absent on a tag's first push).`,
    }),
  format: deliveryFormatSchema.exactOptional().meta({
    description: `Default "acr" (the ACR JSON as application/json); "cloudevents": CloudEvents 1.0 binary mode (the same body, ce-specversion, ce-id = webhook-id, ce-source = /registry-triggers/<region>/<namespace>, ce-type = ${PUSH_CLOUDEVENT_TYPE}, ce-time = the push time, ce-subject = <repository>:<tag>); "cloudevents-structured": application/cloudevents+json with the ACR JSON as data. Every format is signed (Standard Webhooks) over the bytes sent.`,
  }),
  coalesce: z.boolean({ error: 'coalesce must be true or false' }).exactOptional().meta({
    description:
      'Default false: true delivers only the latest push of a tag. A delivery of the tag still waiting or retrying when a newer push of it arrives is not sent (again): its record ends `superseded`, naming the event that replaced it. A delivery already in flight finishes; the newer one follows it.',
  }),
  ordered: z.boolean({ error: 'ordered must be true or false' }).exactOptional().meta({
    description:
      "Default false: true sends the trigger's deliveries in the order their pushes were accepted, one at a time: the next waits until the one before succeeded or finally failed (its retries included).",
  }),
  rateLimit: rateLimitSchema.exactOptional().meta({
    description:
      'Default none: at most perSecond deliveries a second (0.1 to 1000) and, with maxInFlight (1 to 256), at most that many in flight at once, across every worker process. A delivery beyond the limit waits; waiting uses no attempt and is not a failure (its attempt\'s record says `reason: "rate-limited"`).',
  }),
};

export type TriggerOptionFields = {
  [K in keyof typeof triggerOptionShape]?: z.infer<(typeof triggerOptionShape)[K]>;
};

export interface ResolvedTriggerOptions {
  skipArtifactTags: boolean;
  onlyOnDigestChange: boolean;
  format: DeliveryFormat;
  coalesce: boolean;
  ordered: boolean;
  rateLimit: RateLimit | undefined;
}

/** The options of a trigger with every absent one at its default. */
export function triggerOptionsOf(trigger: TriggerOptionFields): ResolvedTriggerOptions {
  return {
    skipArtifactTags: trigger.skipArtifactTags ?? true,
    onlyOnDigestChange: trigger.onlyOnDigestChange ?? false,
    format: trigger.format ?? 'acr',
    coalesce: trigger.coalesce ?? false,
    ordered: trigger.ordered ?? false,
    rateLimit: trigger.rateLimit,
  };
}

export interface EvaluatedPush {
  tag: string;
  /** '' when the source does not say (such a push never counts as the same digest). */
  digest?: string;
  /** The digest the tag had before this push; null or absent when unknown or a first push. */
  previousDigest?: string | null | undefined;
}

/**
 * Why an enabled trigger does not fire for a push, or undefined when it does. The filter
 * comes first: a tag the trigger does not watch is `filter` whatever else is true of it.
 */
export function untriggeredReason(
  trigger: Pick<Trigger, 'type' | 'tags' | 'expression'> & TriggerOptionFields,
  push: EvaluatedPush,
): RecordReason | undefined {
  if (!matchTrigger(trigger, push.tag)) return 'filter';
  const options = triggerOptionsOf(trigger);
  if (options.skipArtifactTags && isArtifactTag(push.tag)) return 'artifact-tag';
  if (options.onlyOnDigestChange && push.digest && push.digest === push.previousDigest) return 'same-digest';
  return undefined;
}
