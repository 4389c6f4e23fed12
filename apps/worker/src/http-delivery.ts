/**
 * One delivery attempt over HTTP with undici: a shared connection pool, no redirects,
 * TLS always verified, bounded time, at most 4 KiB of the answer kept.
 */
import { isIP } from 'node:net';
import { type AttemptResult, MAX_RESPONSE_BODY_BYTES, truncateUtf8 } from '@registry-triggers/core';
import { Agent, type Dispatcher } from 'undici';
import {
  guardedLookupReporting,
  isBlockedAddress,
  type OnBlockedLookup,
  SsrfBlockedError,
} from './ssrf-guard.js';

export interface DispatcherOptions {
  allowPrivateNetworks: boolean;
  connectTimeoutMs: number;
  timeoutMs: number;
  /** Trusted roots instead of Node's standard ones (a namespace's CA bundle added to them). */
  ca?: string[];
  /** Told which addresses a refused host name resolved to (for the operator's log only). */
  onBlocked?: OnBlockedLookup;
}

export function createDeliveryDispatcher(options: DispatcherOptions): Agent {
  return new Agent({
    connect: {
      timeout: options.connectTimeoutMs,
      rejectUnauthorized: true,
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.allowPrivateNetworks ? {} : { lookup: guardedLookupReporting(options.onBlocked) }),
    },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    keepAliveTimeout: 10_000,
    connections: 64,
  });
}

export interface AttemptRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface AttemptReport {
  result: AttemptResult;
  statusCode: string;
  responseHeaders: Record<string, string>;
  responseBody: string;
  durationMs: number;
  errorMessage?: string;
}

// TLS verification failures will not heal by retrying in the next minutes.
const CERTIFICATE_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME_MISMATCH|ALTNAME/;

function errorCode(error: unknown): string {
  const seen = new Set<unknown>();
  let current: unknown = error;
  // undici wraps socket errors; the most specific code is usually on the cause.
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET' && code !== 'ERR_INVALID_ARG_TYPE') return code;
    current = (current as { cause?: unknown }).cause;
  }
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return 'ETIMEDOUT';
  return (error as { code?: string })?.code ?? 'EDELIVERY';
}

function normaliseCode(code: string): string {
  switch (code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'UND_ERR_ABORTED':
    case 'ABORT_ERR':
      return 'ETIMEDOUT';
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'ECONNECTTIMEOUT';
    default:
      return code;
  }
}

function flattenHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

async function readLimited(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    chunks.push(buffer);
    size += buffer.length;
    if (size >= limit) break;
  }
  // Past the limit the rest is discarded; a huge body closes the connection instead of being read.
  await body.dump({ limit: 64 * 1024 }).catch(() => {});
  return truncateUtf8(Buffer.concat(chunks).toString('utf8'), limit);
}

export async function attemptDelivery(
  dispatcher: Dispatcher,
  request: AttemptRequest,
  options: { allowPrivateNetworks: boolean; timeoutMs: number },
): Promise<AttemptReport> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const url = new URL(request.url);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // Literal addresses never reach the lookup hook, so they are vetted here.
    if (!options.allowPrivateNetworks && isIP(host) && isBlockedAddress(host))
      throw new SsrfBlockedError(host);
    const response = await dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    const responseBody = await readLimited(response.body, MAX_RESPONSE_BODY_BYTES);
    const responseHeaders = flattenHeaders(response.headers);
    return {
      result: { kind: 'response', status: response.statusCode, retryAfter: responseHeaders['retry-after'] },
      statusCode: String(response.statusCode),
      responseHeaders,
      responseBody,
      durationMs: elapsed(),
    };
  } catch (error) {
    const code = normaliseCode(errorCode(error));
    const retryable = code !== 'SSRF_BLOCKED' && !CERTIFICATE_ERRORS.test(code) && code !== 'ERR_INVALID_URL';
    return {
      result: { kind: 'error', code, retryable },
      statusCode: code,
      responseHeaders: {},
      responseBody: '',
      durationMs: elapsed(),
      errorMessage: error instanceof Error ? error.message : String(error),
    };
  }
}
