/**
 * Quay `repo_push` notifications: `updated_tags` lists the tags a push moved, without
 * digests (delivered as `""`) and without a time or an id. Quay resends a failed
 * notification within minutes (5 tries, 30 s apart), so its event id hashes the repository,
 * the tag and the window of arrival: a resend within the window is a duplicate, while the
 * same tag pushed again later is a new push.
 */
import { parseOr400, quayNotificationSchema } from '@registry-triggers/http-kit';
import { checkTag, nothing, placeRepository, type SourceReader, stableEventId } from './common.js';

/** Quay retries span 2 minutes; a window of 5 holds them (a window edge may still split one). */
export const QUAY_RETRY_WINDOW_MS = 5 * 60 * 1000;

export const readQuay: SourceReader = ({ body, placement, now }) => {
  const hook = parseOr400(quayNotificationSchema, body);
  // Builds, scans and mirror syncs post to the same URL without updated_tags.
  if (hook.updated_tags === undefined) return nothing();
  const place = placeRepository(hook.repository, 'repository', placement);
  const window = Math.floor(now / QUAY_RETRY_WINDOW_MS);
  const tags = [...new Set(hook.updated_tags)];
  return {
    pushes: tags.map((sent, index) => {
      const tag = checkTag(sent, `updated_tags.${index}`);
      return {
        ...place,
        tag,
        digest: '',
        eventId: stableEventId('quay', place.namespace, place.repository, tag, window),
      };
    }),
    ignored: hook.updated_tags.length - tags.length,
  };
};
