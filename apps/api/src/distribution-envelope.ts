/**
 * Notification envelopes of the CNCF distribution registry. Only a manifest push that
 * carries a tag is an image push; blob pushes, pulls, deletes and pushes by digest are
 * ignored. `target.repository` is `<namespace>/<repository...>`.
 */
import { createHash } from 'node:crypto';
import {
  digestSchema,
  fullNameLengthRule,
  isFullNameWithinLimit,
  namespaceNameSchema,
  repositoryNameSchema,
  tagSchema,
} from '@registry-triggers/core';
import type { distributionEnvelopeSchema } from '@registry-triggers/http-kit';
import type { z } from 'zod';
import type { IncomingPushEvent } from './ingest.js';

// Manifests and indexes (Docker v2 and schema 1, manifest lists, OCI manifests and indexes)
// name themselves so; layers and configs (tar+gzip, octet-stream, image configs) do not.
const MANIFEST_MEDIA_TYPE = /manifest|index/i;

export type DistributionEnvelope = z.infer<typeof distributionEnvelopeSchema>;

/**
 * `ignored`: not an image push (a pull, a blob, a push by digest). `unusable`: an image push
 * this api cannot take (no namespace in its repository, a name, tag or digest outside the
 * rules); counted as ignored too, as the contract's answer has no other count, but worth a
 * warning: the user pushed an image and no trigger will fire.
 */
export type EnvelopeItem =
  | { kind: 'push'; event: IncomingPushEvent }
  | { kind: 'ignored'; reason: string }
  | { kind: 'unusable'; reason: string; repository: string; tag: string };

/**
 * The id of an event the registry sent without one (distribution always sends one; other
 * senders of the envelope may not), derived from what the event says. A resent envelope then
 * carries the same ids, so a retry after a 503 takes only what the first attempt did not: a
 * random id would enqueue every such event again on each retry. UUID-shaped (version 8).
 */
export function derivedEventId(event: Omit<IncomingPushEvent, 'eventId'>, timestamp: string): string {
  const hex = createHash('sha256')
    .update([event.namespace, event.repository, event.tag, event.digest, timestamp].join('\u0000'))
    .digest('hex');
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function readEnvelope(envelope: DistributionEnvelope): EnvelopeItem[] {
  return envelope.events.map((event): EnvelopeItem => {
    const target = event.target;
    if (event.action !== 'push') return { kind: 'ignored', reason: `action ${event.action ?? 'missing'}` };
    if (!target?.tag) return { kind: 'ignored', reason: 'not a tagged manifest push' };
    if (target.mediaType !== undefined && !MANIFEST_MEDIA_TYPE.test(target.mediaType)) {
      return { kind: 'ignored', reason: `a blob push (${target.mediaType})` };
    }
    const full = target.repository ?? '';
    const unusable = (reason: string): EnvelopeItem => ({
      kind: 'unusable',
      reason,
      repository: full,
      tag: target.tag!,
    });
    const slash = full.indexOf('/');
    if (slash < 0) {
      return unusable('the repository has no namespace: it must be <namespace>/<repository>');
    }
    const namespace = full.slice(0, slash);
    const repository = full.slice(slash + 1);
    const checks = [
      namespaceNameSchema.safeParse(namespace),
      repositoryNameSchema.safeParse(repository),
      tagSchema.safeParse(target.tag),
      digestSchema.safeParse(target.digest),
    ];
    const failed = checks.flatMap((check) => (check.success ? [] : [check.error.issues[0]?.message]));
    if (failed.length > 0) return unusable(failed.join('; '));
    if (!isFullNameWithinLimit(namespace, repository)) return unusable(fullNameLengthRule);
    const pushedAt = event.timestamp ? Date.parse(event.timestamp) : Number.NaN;
    const push = { namespace, repository, tag: target.tag, digest: target.digest! };
    return {
      kind: 'push',
      event: {
        ...push,
        pushedAt: Number.isFinite(pushedAt) ? pushedAt : undefined,
        eventId: event.id || derivedEventId(push, event.timestamp ?? ''),
      },
    };
  });
}
