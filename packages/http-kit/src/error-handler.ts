import { isRedisOutOfMemory, isRedisUnavailable } from '@registry-triggers/store';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { Principal } from './auth.js';
import { redactAccessToken } from './auth.js';
import { HttpError, MAX_LISTED_ERRORS } from './problem.js';
import { requestIdOf } from './request-id.js';
import { methodsServing, type RouteSpec } from './route-table.js';

/** Seconds a client should wait before retrying while Redis is unreachable. */
const RETRY_AFTER_SECONDS = '1';

/** JSON that body-parser's strict mode refused for its top level (`null`, `1`, `"x"`), not for its syntax. */
function isJsonScalar(body: unknown): boolean {
  if (typeof body !== 'string') return false;
  try {
    JSON.parse(body);
    return true;
  } catch {
    return false;
  }
}

// body-parser reports its failures as errors carrying a `type` and a status.
function fromBodyParser(error: {
  type?: string;
  status?: number;
  message?: string;
  body?: unknown;
}): HttpError | undefined {
  switch (error.type) {
    case 'entity.too.large':
      return new HttpError(413, 'body-too-large', 'the request body is larger than the limit');
    case 'entity.parse.failed':
      if (isJsonScalar(error.body))
        return new HttpError(400, 'malformed-json', 'the body must be a JSON object or array');
      return new HttpError(
        400,
        'malformed-json',
        `the body is not valid JSON: ${error.message ?? ''}`.trim(),
      );
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpError(415, 'unsupported-encoding', error.message ?? 'unsupported encoding');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new HttpError(400, 'bad-request', error.message ?? 'the request body could not be read');
    default:
      return error.status && error.status >= 400 && error.status < 500
        ? new HttpError(error.status, 'bad-request', error.message ?? 'bad request')
        : undefined;
  }
}

/** Codes whose detail may quote what was sent (a header value, a JSON fragment): not logged. */
const DETAIL_QUOTES_INPUT = new Set([
  'validation-failed',
  'malformed-json',
  'bad-request',
  'unsupported-encoding',
]);

/**
 * The one log line of a refused request: who asked, what for and why, and never a token,
 * a query string (`?access_token=`) or a quoted value; a validation names its fields.
 */
function logRefusal(logger: Logger, problem: HttpError, req: Request, res: Response): void {
  const principal = res.locals.principal as Principal | undefined;
  const reason =
    problem.reason ?? (DETAIL_QUOTES_INPUT.has(problem.code) ? problem.code : problem.message.slice(0, 200));
  const line = {
    requestId: requestIdOf(res),
    method: req.method,
    path: req.path.slice(0, 200),
    status: problem.status,
    code: problem.code,
    reason,
    ...(principal ? { principal: principal.kind } : {}),
    ...(principal?.kind === 'namespace'
      ? { namespace: principal.namespace, tokenId: principal.tokenId }
      : {}),
    ...(problem.errors
      ? { fields: problem.errors.slice(0, MAX_LISTED_ERRORS).map((e) => e.path.slice(0, 200)) }
      : {}),
  };
  if (problem.status >= 500) logger.warn(line, 'request refused');
  else logger.info(line, 'request refused');
}

export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    let problem: HttpError;
    if (error instanceof HttpError) problem = error;
    else if (isRedisUnavailable(error))
      problem = new HttpError(
        503,
        'storage-unavailable',
        'the event store is unreachable; retry shortly',
        undefined,
        {
          'Retry-After': RETRY_AFTER_SECONDS,
        },
      );
    else if (isRedisOutOfMemory(error))
      // Nothing was taken: Redis refuses a script's write only before its first one.
      problem = new HttpError(
        503,
        'storage-full',
        'the event store is out of memory and takes no writes; retry shortly',
        undefined,
        { 'Retry-After': RETRY_AFTER_SECONDS },
      );
    else {
      const parsed = typeof error === 'object' && error !== null ? fromBodyParser(error) : undefined;
      if (parsed) problem = parsed;
      else {
        logger.error(
          {
            err: error,
            requestId: requestIdOf(res),
            method: req.method,
            url: redactAccessToken(req.originalUrl),
          },
          'unhandled error',
        );
        problem = new HttpError(500, 'internal', 'an unexpected error occurred');
      }
    }
    if (problem.status !== 500) logRefusal(logger, problem, req, res);
    if (res.headersSent) {
      res.end();
      return;
    }
    for (const [name, value] of Object.entries(problem.headers ?? {})) res.setHeader(name, value);
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem.toProblem()));
  };
}

/**
 * The last handler of an app: 405 with `Allow` for a path the app's routes (its part of the
 * route table) serve with other methods, 404 for a path they do not serve at all.
 */
export function routeNotFound(routes: readonly RouteSpec[]): RequestHandler {
  return (req, _res, next) => {
    const allowed = methodsServing(routes, req.path);
    if (allowed.length > 0) {
      next(
        new HttpError(
          405,
          'method-not-allowed',
          `${req.method} is not allowed on ${req.path}; it takes ${allowed.join(', ')}`,
          undefined,
          { Allow: allowed.join(', ') },
        ),
      );
      return;
    }
    next(new HttpError(404, 'route-not-found', `no route for ${req.method} ${req.path}`));
  };
}
