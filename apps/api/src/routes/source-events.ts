/**
 * `POST /v1/events/<source>`: a registry's own webhook body, read by its reader
 * (../sources) into push events that take the same path as every other ingest route.
 * Answers 202 `{accepted, duplicates, eventIds, ignored}`; Azure's ping 200.
 */
import { type Tracer, trace } from '@opentelemetry/api';
import {
  apiRoutes,
  parseOr400,
  principalOf,
  type RouteHandlers,
  sourceQuerySchema,
} from '@registry-triggers/http-kit';
import type { Request } from 'express';
import { SOURCES, sourceRoutes } from '../sources/index.js';
import { traceIngest } from '../tracing.js';
import type { AcceptPushes } from './accept-pushes.js';
import { handle, requireMediaType } from './params.js';

const hasBody = (req: Request) =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

/** The operationId the route table gives `POST /v1/events/<source>`. */
function operationIdOf(source: string): string {
  const route = apiRoutes.find((r) => r.method === 'POST' && r.path === `/v1/events/${source}`);
  if (!route) throw new Error(`the route table has no POST /v1/events/${source}`);
  return route.operationId;
}

export function sourceEventHandlers(
  accept: AcceptPushes,
  tracer: Tracer = trace.getTracer('registry-triggers'),
): RouteHandlers {
  const handlers: RouteHandlers = {};
  for (const source of SOURCES) {
    const route = sourceRoutes[source];
    const mediaType = requireMediaType(route.mediaTypes);
    handlers[operationIdOf(source)] = [
      // Azure's ping may come without a body (its shape is not documented).
      (req, res, next) => (source === 'azure' && !hasBody(req) ? next() : mediaType(req, res, next)),
      handle(async (req, res) => {
        const principal = principalOf(res);
        const query = parseOr400(sourceQuerySchema, req.query, 'query');
        const reading = route.read({
          body: req.body,
          header: (name) => req.get(name),
          placement: {
            namespace: query.namespace,
            tokenNamespace: principal.kind === 'namespace' ? principal.namespace : undefined,
          },
          now: Date.now(),
        });
        if (reading.ping) {
          res.status(200).json({ accepted: 0, duplicates: 0, eventIds: [], ignored: 0 });
          return;
        }
        const result = await traceIngest(tracer, req, source, () =>
          accept(source, res, reading.pushes, reading.ignored),
        );
        res.status(202).json({ ...result, ignored: reading.ignored });
      }),
    ];
  }
  return handlers;
}
