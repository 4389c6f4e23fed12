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
};

export type TriggerOptionFields = {
  [K in keyof typeof triggerOptionShape]?: z.infer<(typeof triggerOptionShape)[K]>;
};

export interface ResolvedTriggerOptions {
  skipArtifactTags: boolean;
  onlyOnDigestChange: boolean;
  format: DeliveryFormat;
}

/** The options of a trigger with every absent one at its default. */
export function triggerOptionsOf(trigger: TriggerOptionFields): ResolvedTriggerOptions {
  return {
    skipArtifactTags: trigger.skipArtifactTags ?? true,
    onlyOnDigestChange: trigger.onlyOnDigestChange ?? false,
    format: trigger.format ?? 'acr',
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
