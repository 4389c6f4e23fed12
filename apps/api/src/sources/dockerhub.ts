/**
 * Docker Hub repository webhooks: one push of one tag, no digest (delivered as `""`) and no
 * event id (hashed from the repository, tag and push time, the same on a resend).
 */
import { dockerHubWebhookSchema, parseOr400 } from '@registry-triggers/http-kit';
import {
  checkTag,
  epochSeconds,
  nothing,
  placeRepository,
  type SourceReader,
  stableEventId,
} from './common.js';

export const readDockerHub: SourceReader = ({ body, placement }) => {
  const hook = parseOr400(dockerHubWebhookSchema, body);
  const { tag: sent, pushed_at } = hook.push_data;
  if (!sent) return nothing();
  const tag = checkTag(sent, 'push_data.tag');
  const place = placeRepository(hook.repository.repo_name, 'repository.repo_name', placement);
  return {
    pushes: [
      {
        ...place,
        tag,
        digest: '',
        pushedAt: epochSeconds(pushed_at),
        eventId: stableEventId('dockerhub', place.namespace, place.repository, tag, pushed_at ?? ''),
      },
    ],
    ignored: 0,
  };
};
