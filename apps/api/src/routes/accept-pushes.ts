/**
 * The one way every ingest route takes pushes: the caller's right to their namespaces, the
 * shared ingest path (durable enqueue, 24 h dedupe), and the counts by source and outcome.
 */
import {
  HttpError,
  type Logger,
  type Principal,
  principalOf,
  requestIdOf,
} from '@registry-triggers/http-kit';
import type { Response } from 'express';
import { type IncomingPushEvent, type IngestResult, type IngestTarget, ingestPushEvents } from '../ingest.js';
import { jobContextOf } from '../job-context.js';
import type { ApiMetrics, IngestSource } from '../metrics.js';

/** The ingest token and the admin may post for any namespace; a namespace token only for its own. */
function checkNamespaces(principal: Principal, events: IncomingPushEvent[]): void {
  if (principal.kind === 'admin' || principal.kind === 'ingest') return;
  const foreign = events.find((event) => event.namespace !== principal.namespace);
  if (foreign)
    throw new HttpError(403, 'forbidden', `this token cannot post events for namespace ${foreign.namespace}`);
}

/**
 * Takes the events of one request. Called inside the request's ingest span (traceIngest), so
 * the jobs carry its traceparent; `res` holds the principal and the request id.
 */
export type AcceptPushes = (
  source: IngestSource,
  res: Response,
  events: IncomingPushEvent[],
  ignored?: number,
) => Promise<IngestResult>;

/** How many refused repositories the request's warn line names. */
const LISTED_REFUSALS = 20;

export function pushAcceptor(target: IngestTarget, metrics: ApiMetrics, logger: Logger): AcceptPushes {
  return async (source, res, events, ignored = 0) => {
    checkNamespaces(principalOf(res), events);
    let result: IngestResult = { accepted: 0, duplicates: 0, eventIds: [] };
    if (events.length > 0) {
      const end = metrics.enqueueSeconds.startTimer();
      result = await ingestPushEvents(target, events, Date.now(), jobContextOf(res));
      end();
    }
    metrics.events.inc({ source, outcome: 'accepted' }, result.accepted);
    metrics.events.inc({ source, outcome: 'duplicate' }, result.duplicates);
    // Counted once the request is taken: after a 503 the registry sends it all again.
    if (ignored > 0) metrics.events.inc({ source, outcome: 'ignored' }, ignored);
    if (result.refused) {
      metrics.events.inc({ source, outcome: 'refused' }, result.refused);
      // One line per request, however many repositories: a bounded list and the count.
      const repositories = result.refusedRepositories ?? [];
      logger.warn(
        {
          requestId: requestIdOf(res),
          source,
          refused: result.refused,
          quota: repositories[0]?.quota,
          limit: repositories[0]?.limit,
          repositories: repositories.slice(0, LISTED_REFUSALS).map((r) => `${r.namespace}/${r.repository}`),
          repositoriesOmitted: Math.max(0, repositories.length - LISTED_REFUSALS),
        },
        'pushes refused: their repositories would exceed the namespace quota, no trigger fires for them',
      );
    }
    return result;
  };
}
