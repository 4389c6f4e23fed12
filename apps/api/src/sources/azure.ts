/**
 * Azure Container Registry webhooks: `action: "push"` with `target.tag` is a push; other
 * actions (delete, chart_push, chart_delete, quarantine) and pushes by digest are ignored.
 * A `ping` (from the portal or `az acr webhook ping`) is answered 200 and makes no event.
 */
import { azureWebhookSchema, parseOr400 } from '@registry-triggers/http-kit';
import {
  checkDigest,
  checkTag,
  isoTime,
  nothing,
  placeRepository,
  type SourceReader,
  sourceEventId,
  stableEventId,
} from './common.js';

export const readAzure: SourceReader = ({ body, placement }) => {
  // The ping's body is not documented: no body (the route lets only an empty one through
  // without a JSON type), or action "ping", is a ping.
  if (body === undefined || (body as { action?: unknown } | null)?.action === 'ping')
    return { pushes: [], ignored: 0, ping: true };
  const hook = parseOr400(azureWebhookSchema, body);
  const target = hook.target;
  if (hook.action !== 'push' || !target?.tag) return nothing();
  const path = target.repository ?? '';
  const place = placeRepository(path, 'target.repository', placement);
  const tag = checkTag(target.tag, 'target.tag');
  const digest = checkDigest(target.digest);
  return {
    pushes: [
      {
        ...place,
        tag,
        digest,
        pushedAt: isoTime(hook.timestamp),
        eventId: hook.id
          ? sourceEventId('azure', hook.id)
          : stableEventId('azure', place.namespace, place.repository, tag, digest, hook.timestamp ?? ''),
      },
    ],
    ignored: 0,
  };
};
