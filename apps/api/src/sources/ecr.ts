/**
 * Amazon ECR events as an EventBridge API destination posts them (the whole event, the
 * default input). Only "ECR Image Action" with `action-type: PUSH`, `result: SUCCESS` and
 * an `image-tag` is a push; scans, replication, pull-through cache, deletes and failed or
 * untagged pushes are ignored. The repository lives in one registry per account and region:
 * a one-segment name takes the namespace from `?namespace=` or a namespace token.
 */
import { ecrImageActionSchema, eventBridgeEventSchema, parseOr400 } from '@registry-triggers/http-kit';
import {
  checkDigest,
  checkTag,
  isoTime,
  nothing,
  placeRepository,
  type SourceReader,
  sourceEventId,
} from './common.js';

export const ECR_IMAGE_ACTION = 'ECR Image Action';

export const readEcr: SourceReader = ({ body, placement }) => {
  const event = parseOr400(eventBridgeEventSchema, body);
  if (event.source !== 'aws.ecr' || event['detail-type'] !== ECR_IMAGE_ACTION) return nothing();
  const detail = parseOr400(ecrImageActionSchema, event.detail, 'detail');
  if (detail['action-type'] !== 'PUSH' || detail.result !== 'SUCCESS' || !detail['image-tag'])
    return nothing();
  const place = placeRepository(detail['repository-name'] ?? '', 'detail.repository-name', placement);
  return {
    pushes: [
      {
        ...place,
        tag: checkTag(detail['image-tag'], 'detail.image-tag'),
        digest: checkDigest(detail['image-digest']),
        pushedAt: isoTime(event.time),
        eventId: sourceEventId('ecr', event.id),
      },
    ],
    ignored: 0,
  };
};
