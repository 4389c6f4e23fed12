import {
  DISTRIBUTION_MEDIA_TYPES,
  distributionEnvelopeSchema,
  HttpError,
  LimitError,
  type Logger,
  type Principal,
  parseOr400,
  principalOf,
  pushEventBatchSchema,
  pushEventSchema,
} from '@registry-triggers/http-kit';
import { Router } from 'express';
import { readEnvelope } from '../distribution-envelope.js';
import { type IncomingPushEvent, type IngestTarget, ingestPushEvents } from '../ingest.js';
import type { ApiMetrics } from '../metrics.js';
import { handle, requireMediaType } from './params.js';

/** The ingest token and the admin may post for any namespace; a namespace token only for its own. */
function checkNamespaces(principal: Principal, events: IncomingPushEvent[]): void {
  if (principal.kind === 'admin' || principal.kind === 'ingest') return;
  const foreign = events.find((event) => event.namespace !== principal.namespace);
  if (foreign)
    throw new HttpError(403, 'forbidden', `this token cannot post events for namespace ${foreign.namespace}`);
}

/**
 * 413 for an envelope of more events than MAX_EVENTS_PER_ENVELOPE, before anything is read
 * of it: nothing is taken. (The distribution registry sends one event per envelope.)
 */
function checkEnvelopeSize(body: unknown, limit: number): void {
  const events = (body as { events?: unknown } | undefined)?.events;
  if (!Array.isArray(events) || events.length <= limit) return;
  throw new LimitError(
    413,
    'too-many-events',
    `an envelope holds at most ${limit} events (MAX_EVENTS_PER_ENVELOPE); this one holds ${events.length}: nothing was taken`,
    limit,
    'MAX_EVENTS_PER_ENVELOPE',
  );
}

export interface EventRouteLimits {
  /** MAX_EVENTS_PER_ENVELOPE. */
  maxEnvelopeEvents: number;
}

export function eventRoutes(
  target: IngestTarget,
  metrics: ApiMetrics,
  logger: Logger,
  limits: EventRouteLimits,
): Router {
  const router = Router();

  async function ingest(events: IncomingPushEvent[]) {
    const end = metrics.enqueueSeconds.startTimer();
    const result = await ingestPushEvents(target, events, Date.now());
    end();
    metrics.events.inc({ outcome: 'accepted' }, result.accepted);
    metrics.events.inc({ outcome: 'duplicate' }, result.duplicates);
    if (result.refused) {
      metrics.events.inc({ outcome: 'refused' }, result.refused);
      // One line per request, however many repositories: a bounded list and the count.
      const repositories = result.refusedRepositories ?? [];
      logger.warn(
        {
          refused: result.refused,
          quota: repositories[0]?.quota,
          limit: repositories[0]?.limit,
          repositories: repositories.slice(0, 20).map((r) => `${r.namespace}/${r.repository}`),
          repositoriesOmitted: Math.max(0, repositories.length - 20),
        },
        'pushes refused: their repositories would exceed the namespace quota, no trigger fires for them',
      );
    }
    return result;
  }

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
      checkNamespaces(principal, events);
      res.status(202).json(await ingest(events));
    }),
  );

  router.post(
    '/v1/events/distribution',
    requireMediaType(DISTRIBUTION_MEDIA_TYPES),
    handle(async (req, res) => {
      const principal = principalOf(res);
      checkEnvelopeSize(req.body, limits.maxEnvelopeEvents);
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
      checkNamespaces(principal, events);
      const result = events.length > 0 ? await ingest(events) : { accepted: 0, duplicates: 0, eventIds: [] };
      // Counted once the envelope is taken: after a 503 the registry sends it all again.
      metrics.events.inc({ outcome: 'ignored' }, ignored);
      res.status(202).json({ ...result, ignored });
    }),
  );
  return router;
}
