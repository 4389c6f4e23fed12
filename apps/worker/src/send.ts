/**
 * Send: one attempt of a delivery over HTTP. Builds the request (the trigger's format, its
 * headers, the Standard Webhooks signature) and sends it through http-delivery.ts (undici,
 * SSRF guard, no redirects, bounded time). Whatever the receiver does becomes a typed
 * outcome, never an exception.
 */
import {
  classifyAttempt,
  type DeliveryOutcome,
  formatDelivery,
  PREVIOUS_DIGEST_HEADER,
  type Trigger,
  triggerOptionsOf,
  webhookHeaders,
} from '@registry-triggers/core';
import type { DeliveryJob } from '@registry-triggers/store';
import type { Dispatcher } from 'undici';
import { type AttemptReport, type AttemptRequest, attemptDelivery } from './http-delivery.js';
import type { AttemptHealth } from './origin-guard.js';

const USER_AGENT = 'registry-triggers/0.1';

export interface SendSettings {
  region: string;
  allowPrivateNetworks: boolean;
  timeoutMs: number;
  dispatcher: Dispatcher;
  /** The dispatcher of one delivery (a namespace's private CA); `dispatcher` without it. */
  dispatcherFor?: ((namespace: string, url: string) => Promise<Dispatcher>) | undefined;
  /** Trace headers for the attempt's request (the W3C traceparent, tracing.ts). */
  traceHeaders?: (() => Record<string, string>) | undefined;
}

/** The request of one attempt: what is sent is what gets signed and recorded. */
export function buildRequest(
  trigger: Trigger,
  data: DeliveryJob,
  acrBody: string,
  requestTime: number,
  settings: Pick<SendSettings, 'region' | 'traceHeaders'>,
): AttemptRequest {
  // The trigger's format wraps the ACR JSON.
  const formatted = formatDelivery(triggerOptionsOf(trigger).format, acrBody, {
    id: data.deliveryId,
    region: settings.region,
    namespace: data.namespace,
    subject: `${data.repository}:${data.tag}`,
    pushedAt: data.pushedAt,
  });
  const body = formatted.body;
  // The format's headers (ce-*) and the previous digest are the delivery's: a trigger header of
  // the same name (names ignore case) is left out rather than sent beside ours.
  const owned: Record<string, string> = {
    ...formatted.headers,
    ...(data.previousDigest ? { [PREVIOUS_DIGEST_HEADER.toLowerCase()]: data.previousDigest } : {}),
  };
  const custom = Object.fromEntries(
    Object.entries(trigger.headers ?? {}).filter(([name]) => !Object.hasOwn(owned, name.toLowerCase())),
  );
  // A User-Agent of the trigger's replaces ours (names ignore case): sent once, as configured.
  const ownUserAgent = Object.keys(custom).some((name) => name.toLowerCase() === 'user-agent');
  const headers: Record<string, string> = {
    ...custom,
    ...owned,
    ...(ownUserAgent ? {} : { 'user-agent': USER_AGENT }),
    ...settings.traceHeaders?.(),
    ...webhookHeaders({
      id: data.deliveryId,
      timestampSec: Math.floor(requestTime / 1000),
      body,
      secret: trigger.secret,
    }),
  };
  return { url: trigger.url, headers, body };
}

export interface SentAttempt {
  request: AttemptRequest;
  report: AttemptReport;
  outcome: DeliveryOutcome;
  /** How the receiver behaved, for the origin guard. */
  health: AttemptHealth;
}

/** How an attempt went for the origin guard: only a retryable outcome says the receiver struggles. */
function healthOf(outcome: DeliveryOutcome, report: AttemptReport): AttemptHealth {
  if (outcome.type !== 'retryable') return 'healthy';
  return report.result.kind === 'response' ? 'refusing' : 'unreachable';
}

/**
 * Sends the attempt. Only our own side can throw (the namespace's CA bundle unreadable): that
 * says nothing of the receiver, and the caller treats it so.
 */
export async function sendAttempt(
  request: AttemptRequest,
  namespace: string,
  settings: SendSettings,
  now: () => number,
): Promise<SentAttempt> {
  const dispatcher = settings.dispatcherFor
    ? await settings.dispatcherFor(namespace, request.url)
    : settings.dispatcher;
  const report = await attemptDelivery(dispatcher, request, {
    allowPrivateNetworks: settings.allowPrivateNetworks,
    timeoutMs: settings.timeoutMs,
  });
  const outcome = classifyAttempt(report.result, now());
  return { request, report, outcome, health: healthOf(outcome, report) };
}
