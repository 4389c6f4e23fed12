import { type Tracer, trace } from '@opentelemetry/api';
import {
  DISTRIBUTION_MEDIA_TYPES,
  distributionEnvelopeSchema,
  LimitError,
  type Logger,
  parseOr400,
  pushEventBatchSchema,
  pushEventSchema,
  type RouteHandlers,
  requestIdOf,
} from '@registry-triggers/http-kit';
import type { Response } from 'express';
import { readEnvelope } from '../distribution-envelope.js';
import { traceIngest } from '../tracing.js';
import type { AcceptPushes } from './accept-pushes.js';
import { handle, requireMediaType } from './params.js';

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

/**
 * The 202 of an ingest route, written straight to the socket: the bytes and headers of
 * `res.status(202).json(body)` without express's send path (type lookup, ETag, freshness),
 * which the busiest request paid on every event.
 */
function answerAccepted(res: Response, body: object): void {
  const json = JSON.stringify(body);
  res.statusCode = 202;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(json));
  res.end(json);
}

/** How many unusable events the envelope's warn line names. */
const UNUSABLE_EXAMPLES = 3;

export interface EventRouteLimits {
  /** MAX_EVENTS_PER_ENVELOPE. */
  maxEnvelopeEvents: number;
}

export function eventHandlers(
  accept: AcceptPushes,
  logger: Logger,
  limits: EventRouteLimits,
  tracer: Tracer = trace.getTracer('registry-triggers'),
): RouteHandlers {
  const handlers: RouteHandlers = {};

  handlers.postPushEvents = [
    requireMediaType(['application/json']),
    handle(async (req, res) => {
      const result = await traceIngest(tracer, req, 'push', async () => {
        // Parsed by shape, not through the union: a failed union only says "Invalid input",
        // where the answer must name the field and the rule.
        const body = Array.isArray(req.body)
          ? parseOr400(pushEventBatchSchema, req.body)
          : [parseOr400(pushEventSchema, req.body)];
        const events = body.map((event) => ({
          ...event,
          pushedAt: event.pushedAt ? Date.parse(event.pushedAt) : undefined,
        }));
        return accept('push', res, events);
      });
      answerAccepted(res, result);
    }),
  ];

  handlers.postDistributionEnvelope = [
    requireMediaType(DISTRIBUTION_MEDIA_TYPES),
    handle(async (req, res) => {
      const result = await traceIngest(tracer, req, 'distribution', async () => {
        checkEnvelopeSize(req.body, limits.maxEnvelopeEvents);
        const envelope = parseOr400(distributionEnvelopeSchema, req.body);
        const items = readEnvelope(envelope);
        // One line per envelope, however many of its events are unusable: an envelope of
        // 10,000 must not write 10,000 lines. The first few name what and why.
        const unusable = items.flatMap((item) => (item.kind === 'unusable' ? [item] : []));
        if (unusable.length > 0) {
          logger.warn(
            {
              requestId: requestIdOf(res),
              unusable: unusable.length,
              examples: unusable
                .slice(0, UNUSABLE_EXAMPLES)
                .map(({ repository, tag, reason }) => ({ repository, tag, reason })),
            },
            'pushed images the registry reported cannot be taken: no trigger fires for them',
          );
        }
        const events = items.flatMap((item) => (item.kind === 'push' ? [item.event] : []));
        const ignored = items.length - events.length;
        return { ...(await accept('distribution', res, events, ignored)), ignored };
      });
      answerAccepted(res, result);
    }),
  ];
  return handlers;
}
