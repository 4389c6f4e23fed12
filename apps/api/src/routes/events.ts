import {
  DISTRIBUTION_MEDIA_TYPES,
  distributionEnvelopeSchema,
  type Logger,
  parseOr400,
  principalOf,
  pushEventBatchSchema,
  pushEventSchema,
} from '@registry-triggers/http-kit';
import { Router } from 'express';
import { readEnvelope } from '../distribution-envelope.js';
import type { AcceptPushes } from './accept-pushes.js';
import { handle, requireMediaType } from './params.js';

export function eventRoutes(accept: AcceptPushes, logger: Logger): Router {
  const router = Router();

  router.post(
    '/v1/events/push',
    requireMediaType(['application/json']),
    handle(async (req, res) => {
      const principal = principalOf(res);
      // Parsed by shape, not through the union: a failed union only says "Invalid input",
      // where the answer must name the field and the rule.
      const body = Array.isArray(req.body)
        ? parseOr400(pushEventBatchSchema, req.body)
        : [parseOr400(pushEventSchema, req.body)];
      const events = body.map((event) => ({
        ...event,
        pushedAt: event.pushedAt ? Date.parse(event.pushedAt) : undefined,
      }));
      res.status(202).json(await accept('push', principal, events));
    }),
  );

  router.post(
    '/v1/events/distribution',
    requireMediaType(DISTRIBUTION_MEDIA_TYPES),
    handle(async (req, res) => {
      const principal = principalOf(res);
      const envelope = parseOr400(distributionEnvelopeSchema, req.body);
      const items = readEnvelope(envelope);
      for (const item of items) {
        if (item.kind === 'unusable') {
          logger.warn(
            { repository: item.repository, tag: item.tag, reason: item.reason },
            'a pushed image the registry reported cannot be taken: no trigger fires for it',
          );
        }
      }
      const events = items.flatMap((item) => (item.kind === 'push' ? [item.event] : []));
      const ignored = items.length - events.length;
      const result = await accept('distribution', principal, events, ignored);
      res.status(202).json({ ...result, ignored });
    }),
  );
  return router;
}
