/**
 * OpenTelemetry traces, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (then spans go there
 * over OTLP/HTTP, batched). Each app's own tracing module says which spans it makes; this
 * one sets up the SDK and carries a span's context through a queue job as a W3C traceparent.
 */
import {
  type Context,
  context,
  INVALID_SPAN_CONTEXT,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanOptions,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-node';
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

/**
 * Whether this process started tracing. Until it does, every tracer is OpenTelemetry's no-op
 * one, and `withSpan` skips making spans that nothing records: per push, the no-op span, its
 * context and the attributes cost the api about as much as its body's validation.
 */
let tracingStarted = false;

/** A span that records nothing, handed to the work of `withSpan` while tracing is off. */
const NOT_RECORDED = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Starts tracing for one app when the environment names a collector, or when a test gives
 * an exporter (spans are then exported one by one, as they end). The SDK is loaded only
 * then: an app without traces does not pay for its start-up.
 */
export async function startTracing(app: string, env: TracingEnv, exporter?: SpanExporter): Promise<Tracing> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !exporter)
    return { enabled: false, tracer: trace.getTracer(TRACER_NAME), shutdown: async () => {} };
  const [sdk, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/resources'),
  ]);
  const processor = exporter
    ? new sdk.SimpleSpanProcessor(exporter)
    : new sdk.BatchSpanProcessor(
        new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter(),
      );
  const provider = new sdk.NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? `registry-triggers-${app}` }),
    spanProcessors: [processor],
  });
  // The async-hooks context manager (a span started in a request stays active across its
  // awaits) and the W3C trace-context propagator, for the whole process.
  provider.register();
  tracingStarted = true;
  return { enabled: true, tracer: provider.getTracer(TRACER_NAME), shutdown: () => provider.shutdown() };
}

/** The W3C traceparent of a context's span, for a job or a request header; undefined without a span. */
export function traceparentOf(ctx: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  // The registered propagator: none (nothing injected) while tracing is off.
  propagation.inject(ctx, carrier);
  return carrier.traceparent;
}

/** The context a traceparent names (a job's, a request's), or the root when there is none or it is invalid. */
export function contextFrom(traceparent: string | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
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
  if (!tracingStarted) return work(NOT_RECORDED);
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
