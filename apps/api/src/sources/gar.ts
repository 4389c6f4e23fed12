/**
 * Google Artifact Registry notifications (topic `gcr`) as a Pub/Sub push subscription posts
 * them: `message.data` is base64 of `{"action", "digest"?, "tag"?}` where `tag` and `digest`
 * are whole image references (`LOCATION-docker.pkg.dev/PROJECT/REPO/IMAGE:TAG`,
 * `…/IMAGE@sha256:…`). Only an INSERT with a tag is a push. The path after the host is the
 * repository path (`PROJECT/REPO/IMAGE` → namespace PROJECT, repository REPO/IMAGE). With
 * payload unwrapping on, the body is the data itself and the message id a header.
 */
import { garNotificationSchema, parseOr400, pubSubPushSchema } from '@registry-triggers/http-kit';
import {
  checkDigest,
  checkTag,
  decodeBase64Json,
  isoTime,
  nothing,
  placeRepository,
  type SourceReader,
  sourceEventId,
  sourceFieldError,
  stableEventId,
} from './common.js';

/** `host/path:tag` → path and tag; the tag is after the last ":" that follows the last "/". */
function splitTagReference(reference: string, field: string): { path: string; tag: string } {
  const slash = reference.indexOf('/');
  const colon = reference.lastIndexOf(':');
  if (slash < 0 || colon < reference.lastIndexOf('/'))
    throw sourceFieldError(field, 'must be an image reference HOST/PATH:TAG', reference);
  return { path: reference.slice(slash + 1, colon), tag: reference.slice(colon + 1) };
}

/** `host/path@algorithm:hex` → the digest; `""` when there is none to read (checkDigest). */
function digestOfReference(reference: string | undefined): string {
  const at = reference?.indexOf('@') ?? -1;
  return reference === undefined || at < 0 ? '' : checkDigest(reference.slice(at + 1));
}

export const readGar: SourceReader = ({ body, header, placement }) => {
  const wrapped = typeof body === 'object' && body !== null && 'message' in body;
  let data: unknown;
  let root: string;
  let messageId: string | undefined;
  let publishTime: string | undefined;
  if (wrapped) {
    const { message } = parseOr400(pubSubPushSchema, body);
    if (message.data === undefined) throw sourceFieldError('message.data', 'message.data is required');
    root = 'message.data';
    data = decodeBase64Json(message.data, root);
    messageId = message.messageId ?? message.message_id;
    publishTime = message.publishTime ?? message.publish_time;
  } else {
    root = '';
    data = body;
    messageId = header('x-goog-pubsub-message-id');
    publishTime = header('x-goog-pubsub-publish-time');
  }
  const notification = parseOr400(garNotificationSchema, data, root || undefined);
  const field = (name: string) => (root ? `${root}.${name}` : name);
  if (notification.action !== 'INSERT' || notification.tag === undefined) return nothing();
  const { path, tag: sent } = splitTagReference(notification.tag, field('tag'));
  const tag = checkTag(sent, field('tag'));
  const digest = digestOfReference(notification.digest);
  const place = placeRepository(path, field('tag'), placement);
  return {
    pushes: [
      {
        ...place,
        tag,
        digest,
        pushedAt: isoTime(publishTime),
        eventId: messageId
          ? sourceEventId('gar', messageId)
          : stableEventId('gar', place.namespace, place.repository, tag, digest, publishTime ?? ''),
      },
    ],
    ignored: 0,
  };
};
