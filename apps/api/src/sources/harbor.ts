/**
 * Harbor webhook policies. The "Default" payload format (`type`, `occur_at`, `event_data`)
 * is read here; its "CloudEvents" format (Harbor 2.8+) goes through ./cloudevents.ts, which
 * hands `harbor.artifact.pushed` data back to readHarborArtifacts. One resource is one push;
 * a resource whose `tag` is its digest was pushed untagged.
 */
import { harborArtifactDataSchema, harborWebhookSchema, parseOr400 } from '@registry-triggers/http-kit';
import type { IncomingPushEvent } from '../ingest.js';
import {
  checkDigest,
  checkTag,
  epochSeconds,
  isDigestReference,
  nothing,
  type Placement,
  placeRepository,
  type SourceReader,
  type SourceReading,
  sourceEventId,
  stableEventId,
} from './common.js';

/** Harbor 2.x calls a push PUSH_ARTIFACT; 1.9 and 1.10 sent the same body as pushImage. */
export const HARBOR_PUSH_TYPES: ReadonlySet<string> = new Set(['PUSH_ARTIFACT', 'pushImage']);

export interface HarborEventContext {
  /** `event_data` or `data`: the root of field names in errors. */
  root: string;
  placement: Placement;
  pushedAt: number | undefined;
  /** The CloudEvent id, when there is one; else ids are hashed from the push. */
  id: string | undefined;
}

export function readHarborArtifacts(data: unknown, context: HarborEventContext): SourceReading {
  const { resources, repository } = parseOr400(harborArtifactDataSchema, data, context.root);
  const field = (name: string) => `${context.root}.${name}`;
  const place = placeRepository(
    repository.repo_full_name,
    field('repository.repo_full_name'),
    context.placement,
  );
  const tagged = resources.flatMap((resource, index) =>
    resource.tag && !isDigestReference(resource.tag) ? [{ resource, index }] : [],
  );
  const pushes = tagged.map(({ resource, index }): IncomingPushEvent => {
    const tag = checkTag(resource.tag!, field(`resources.${index}.tag`));
    const digest = checkDigest(resource.digest);
    return {
      ...place,
      tag,
      digest,
      pushedAt: context.pushedAt,
      eventId:
        context.id === undefined
          ? stableEventId('harbor', place.namespace, place.repository, tag, digest, context.pushedAt ?? '')
          : sourceEventId('harbor', context.id, tagged.length > 1 ? tag : undefined),
    };
  });
  return { pushes, ignored: resources.length - pushes.length };
}

export const readHarbor: SourceReader = ({ body, placement }) => {
  const hook = parseOr400(harborWebhookSchema, body);
  if (!HARBOR_PUSH_TYPES.has(hook.type)) return nothing();
  return readHarborArtifacts(hook.event_data, {
    root: 'event_data',
    placement,
    pushedAt: epochSeconds(hook.occur_at),
    id: undefined,
  });
};
