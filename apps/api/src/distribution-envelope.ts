/**
 * Notification envelopes of the CNCF distribution registry. Only a manifest push that
 * carries a tag is an image push; blob pushes, pulls, deletes and pushes by digest are
 * ignored. `target.repository` is `<namespace>/<repository...>`.
 */
import { digestSchema, namespaceNameSchema, repositoryNameSchema, tagSchema } from '@registry-triggers/core';
import type { distributionEnvelopeSchema } from '@registry-triggers/http-kit';
import type { z } from 'zod';
import type { IncomingPushEvent } from './ingest.js';

// Manifests and indexes (Docker v2 and schema 1, manifest lists, OCI manifests and indexes)
// name themselves so; layers and configs (tar+gzip, octet-stream, image configs) do not.
const MANIFEST_MEDIA_TYPE = /manifest|index/i;

export type DistributionEnvelope = z.infer<typeof distributionEnvelopeSchema>;

export type EnvelopeItem = { kind: 'push'; event: IncomingPushEvent } | { kind: 'ignored'; reason: string };

export function readEnvelope(envelope: DistributionEnvelope): EnvelopeItem[] {
  return envelope.events.map((event): EnvelopeItem => {
    const target = event.target;
    if (event.action !== 'push') return { kind: 'ignored', reason: `action ${event.action ?? 'missing'}` };
    if (!target?.tag) return { kind: 'ignored', reason: 'not a tagged manifest push' };
    if (target.mediaType !== undefined && !MANIFEST_MEDIA_TYPE.test(target.mediaType)) {
      return { kind: 'ignored', reason: `a blob push (${target.mediaType})` };
    }
    const full = target.repository ?? '';
    const slash = full.indexOf('/');
    if (slash < 0) return { kind: 'ignored', reason: `repository ${full} has no namespace` };
    const namespace = full.slice(0, slash);
    const repository = full.slice(slash + 1);
    if (
      !namespaceNameSchema.safeParse(namespace).success ||
      !repositoryNameSchema.safeParse(repository).success ||
      !tagSchema.safeParse(target.tag).success ||
      !digestSchema.safeParse(target.digest).success
    ) {
      return { kind: 'ignored', reason: 'invalid name, tag or digest' };
    }
    const pushedAt = event.timestamp ? Date.parse(event.timestamp) : Number.NaN;
    return {
      kind: 'push',
      event: {
        namespace,
        repository,
        tag: target.tag,
        digest: target.digest!,
        pushedAt: Number.isFinite(pushedAt) ? pushedAt : undefined,
        eventId: event.id || undefined,
      },
    };
  });
}
