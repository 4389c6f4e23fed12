/**
 * The api's traces: one server span per ingest request, a child of the caller's traceparent
 * when it sent one. Its jobs carry the span's traceparent (job-context.ts), so the worker's
 * evaluation and delivery spans are its children.
 */

import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import {
  contextFrom,
  HttpError,
  startTracing,
  type Tracing,
  type TracingEnv,
  withSpan,
} from '@registry-triggers/http-kit';
import type { Request } from 'express';
import type { IngestResult } from './ingest.js';
import type { IngestSource } from './metrics.js';

export const startApiTracing = (env: TracingEnv): Promise<Tracing> => startTracing('api', env);

export function traceIngest<T extends IngestResult>(
  tracer: Tracer,
  req: Request,
  source: IngestSource,
  work: () => Promise<T>,
): Promise<T> {
  const given = req.headers.traceparent;
  return withSpan(
    tracer,
    `ingest ${source}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': req.method,
        // The route's pattern, as the metrics label it (req.path would parse the URL again).
        'http.route': (req.route?.path as string | undefined) ?? req.path,
        'registry_triggers.source': source,
      },
    },
    contextFrom(typeof given === 'string' ? given : undefined),
    async (span) => {
      const result = await work();
      span.setAttributes({
        'http.response.status_code': 202,
        'registry_triggers.events.accepted': result.accepted,
        'registry_triggers.events.duplicates': result.duplicates,
      });
      return result;
    },
    (span, error) => {
      const status = error instanceof HttpError ? error.status : 500;
      span.setAttribute('http.response.status_code', status);
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: error instanceof HttpError ? error.code : 'internal',
      });
    },
  );
}
