/**
 * OpenTelemetry traces, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (then spans go there
 * over OTLP/HTTP, batched). Each app's own tracing module says which spans it makes; this
 * one sets up the SDK and carries a span's context through a queue job as a W3C traceparent.
 */
import {
  type Context,
  context,
  ROOT_CONTEXT,
  type Span,
  type SpanOptions,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';
import { z } from 'zod';

export const tracingEnvSchema = z.object({
  /** The OTLP/HTTP collector (`…/v1/traces` is appended); unset: no traces. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ error: 'must be a URL such as http://collector:4318' }).optional(),
  OTEL_SERVICE_NAME: z.string().min(1).max(100).optional(),
});
export type TracingEnv = z.infer<typeof tracingEnvSchema>;

export interface Tracing {
  readonly enabled: boolean;
  readonly tracer: Tracer;
  /** Sends what is buffered and stops; a no-op when tracing is off. */
  shutdown(): Promise<void>;
}

const TRACER_NAME = 'registry-triggers';
const propagator = new W3CTraceContextPropagator();

/**
 * Starts tracing for one app when the environment names a collector, or when a test gives
 * an exporter (spans are then exported one by one, as they end).
 */
export function startTracing(app: string, env: TracingEnv, exporter?: SpanExporter): Tracing {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !exporter)
    return { enabled: false, tracer: trace.getTracer(TRACER_NAME), shutdown: async () => {} };
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? `registry-triggers-${app}` }),
    spanProcessors: [
      exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(new OTLPTraceExporter()),
    ],
  });
  // The async-hooks context manager: a span started in a request stays active across its awaits.
  provider.register();
  return { enabled: true, tracer: provider.getTracer(TRACER_NAME), shutdown: () => provider.shutdown() };
}

/** The W3C traceparent of a context's span, for a job or a request header; undefined without a span. */
export function traceparentOf(ctx: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  propagator.inject(ctx, carrier, { set: (c, key, value) => (c[key] = value) });
  return carrier.traceparent;
}

/** The context a traceparent names (a job's, a request's), or the root when there is none or it is invalid. */
export function contextFrom(traceparent: string | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagator.extract(
    ROOT_CONTEXT,
    { traceparent },
    {
      get: (c, key) => c[key as keyof typeof c],
      keys: (c) => Object.keys(c),
    },
  );
}

/**
 * Runs `work` in a new span (child of `parent`), active across its awaits, ended with it. A
 * throw sets the error status: `onError` says how (its name by default, never its message,
 * which may quote what was sent).
 */
export async function withSpan<T>(
  tracer: Tracer,
  name: string,
  options: SpanOptions,
  parent: Context,
  work: (span: Span) => Promise<T>,
  onError: (span: Span, error: unknown) => void = (span, error) =>
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.name ?? 'Error' }),
): Promise<T> {
  const span = tracer.startSpan(name, options, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (error) {
    onError(span, error);
    throw error;
  } finally {
    span.end();
  }
}
