/**
 * Forwards the `/v1/*` requests this app has no route for to the api (`CONSOLE_API_URL`), so
 * the console at `/` reaches every route of the contract through one origin.
 *
 * A same-origin proxy rather than CORS on the api: the page keeps `connect-src 'self'` in its
 * Content-Security-Policy, the bearer token is never sent to a second origin, no preflight
 * doubles every write, and the api needs no list of allowed origins to keep in step with
 * wherever the logs app is published. Without the setting nothing is forwarded and unknown
 * routes get this app's own 404/405 problems.
 */
import { Agent as HttpAgent, type IncomingHttpHeaders, type OutgoingHttpHeaders, request } from 'node:http';
import { Agent as HttpsAgent, request as requestTls } from 'node:https';
import { HttpError, type Logger } from '@registry-triggers/http-kit';
import type { Request, RequestHandler } from 'express';

/**
 * Headers of one hop only (RFC 9110 §7.6.1), never forwarded in either direction; `host` is
 * the api's own. A `Connection` header may name more of them.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/** The end-to-end headers of a message: every hop-by-hop one dropped. */
export function endToEndHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name !== ''),
  );
  const kept: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    kept[name] = value;
  }
  return kept;
}

/** A message's Via with this hop added (RFC 9110 §7.6.3: a proxy says it was there). */
function withVia(before: string | undefined, httpVersion: string): string {
  const hop = `${httpVersion} registry-triggers-logs`;
  return before ? `${before}, ${hop}` : hop;
}

export interface ApiProxyOptions {
  /** The api's base URL, e.g. http://127.0.0.1:8080. */
  target: URL;
  /** True for a request this app serves itself (it is not forwarded). */
  serves: (req: Request) => boolean;
  /** Longest wait for the api's answer to begin, and longest silence while a body streams. */
  timeoutMs: number;
  logger: Logger;
}

export function apiProxy(options: ApiProxyOptions): RequestHandler & { close: () => void } {
  const tls = options.target.protocol === 'https:';
  // Kept-alive connections, bounded: a stampede of clients cannot open unbounded sockets to the api.
  const agent = tls
    ? new HttpsAgent({ keepAlive: true, maxSockets: 128 })
    : new HttpAgent({ keepAlive: true, maxSockets: 128 });
  const send = tls ? requestTls : request;
  const basePath = options.target.pathname.replace(/\/+$/, '');

  const handler: RequestHandler = (req, res, next) => {
    if (!req.path.startsWith('/v1/') || options.serves(req)) {
      next();
      return;
    }
    const headers = endToEndHeaders(req.headers);
    const client = req.socket.remoteAddress;
    if (client) {
      const before = req.headers['x-forwarded-for'];
      headers['x-forwarded-for'] = before ? `${before}, ${client}` : client;
    }
    if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
    headers['x-forwarded-proto'] = req.protocol;
    headers.via = withVia(req.headers.via, req.httpVersion);

    let answered = false;
    const fail = (error: HttpError) => {
      if (answered) return;
      answered = true;
      if (res.headersSent) res.destroy();
      else next(error);
    };
    // originalUrl as the client sent it: a nested repository's %2F stays one path segment.
    const upstream = send(
      {
        protocol: options.target.protocol,
        hostname: options.target.hostname,
        port: options.target.port,
        path: `${basePath}${req.originalUrl}`,
        method: req.method,
        headers,
        agent,
        timeout: options.timeoutMs,
      },
      (answer) => {
        if (answered) {
          answer.resume();
          return;
        }
        answered = true;
        const answerHeaders = endToEndHeaders(answer.headers);
        answerHeaders.via = withVia(answer.headers.via, answer.httpVersion);
        res.writeHead(answer.statusCode ?? 502, answerHeaders);
        answer.pipe(res);
        answer.on('error', () => res.destroy());
      },
    );
    // A silent api (no answer, or a body that stops) is a 504, not a hang.
    upstream.on('timeout', () => {
      options.logger.warn({ path: req.path, timeoutMs: options.timeoutMs }, 'api did not answer in time');
      fail(new HttpError(504, 'api-timeout', `the api did not answer within ${options.timeoutMs} ms`));
      upstream.destroy();
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      options.logger.warn({ path: req.path, err: error.code ?? error.message }, 'api unreachable');
      fail(
        new HttpError(
          502,
          'api-unreachable',
          `the api is unreachable (${error.code ?? 'no answer'}); retry shortly`,
          undefined,
          { 'Retry-After': '1' },
        ),
      );
    });
    // A client that leaves takes its upstream request with it.
    res.on('close', () => {
      if (res.writableFinished) return;
      answered = true;
      upstream.destroy();
    });
    req.pipe(upstream);
  };
  return Object.assign(handler, { close: () => agent.destroy() });
}
