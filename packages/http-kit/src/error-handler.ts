import { isRedisUnavailable } from '@registry-triggers/store';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { redactAccessToken } from './auth.js';
import { methodsServing } from './express-routes.js';
import { HttpError } from './problem.js';

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
    else {
      const parsed = typeof error === 'object' && error !== null ? fromBodyParser(error) : undefined;
      if (parsed) problem = parsed;
      else {
        logger.error(
          { err: error, method: req.method, url: redactAccessToken(req.originalUrl) },
          'unhandled error',
        );
        problem = new HttpError(500, 'internal', 'an unexpected error occurred');
      }
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    for (const [name, value] of Object.entries(problem.headers ?? {})) res.setHeader(name, value);
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem.toProblem()));
  };
}

/**
 * The last handler of an app: 405 with `Allow` for a path the app serves with other
 * methods, 404 for a path it does not serve at all.
 */
export function routeNotFound(app: object): RequestHandler {
  return (req, _res, next) => {
    const allowed = methodsServing(app, req.path);
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
