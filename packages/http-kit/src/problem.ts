/** Errors that cross the HTTP boundary, rendered as RFC 9457 problem+json by one handler. */
import { isReservedKey, RESERVED_KEY_RULE } from '@registry-triggers/core';
import type { Request, RequestHandler } from 'express';
import type { z } from 'zod';

/**
 * A problem lists at most this many field errors and says how many it left out
 * (`errorsOmitted`): a body with 200,000 bad entries gets a small answer, built fast.
 */
export const MAX_LISTED_ERRORS = 20;
/** The longest path or message of one field error, and the longest detail. */
const MAX_PATH_LENGTH = 200;
const MAX_MESSAGE_LENGTH = 500;

/** A text cut to `max` characters, marked with an ellipsis. */
function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export interface FieldError {
  path: string;
  message: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: FieldError[];
  /** How many field errors there were beyond the ones listed. */
  errorsOmitted?: number;
  /** A refusal for a limit (LimitError): its value, and the setting that sets it when there is one. */
  limit?: number;
  quota?: string;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** A route error with a stable `code`; the type URI is derived from it. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
    /** Field errors found besides `errors` and not built (a validation stops listing at the cap). */
    readonly errorsUnlisted = 0,
  ) {
    super(detail);
    this.name = 'HttpError';
  }

  /**
   * Why the request was refused, for the log line of the refusal when the detail will not
   * do (it is the same for a missing and a wrong token, or it may quote what was sent).
   */
  reason?: string;

  /** Sets `reason`; returns the error, to be thrown. */
  because(reason: string): this {
    this.reason = reason;
    return this;
  }

  toProblem(): ProblemBody {
    const listed = this.errors?.slice(0, MAX_LISTED_ERRORS).map((error) => ({
      path: clip(error.path, MAX_PATH_LENGTH),
      message: clip(error.message, MAX_MESSAGE_LENGTH),
    }));
    const omitted = (this.errors?.length ?? 0) - (listed?.length ?? 0) + this.errorsUnlisted;
    return {
      type: `https://registry-triggers.dev/problems/${this.code}`,
      title: TITLES[this.status] ?? 'Error',
      status: this.status,
      detail: clip(this.message, MAX_PATH_LENGTH + MAX_MESSAGE_LENGTH + 2),
      code: this.code,
      ...(listed ? { errors: listed } : {}),
      ...(omitted > 0 ? { errorsOmitted: omitted } : {}),
    };
  }
}

/**
 * A refusal because a limit was reached. The problem names it: `limit` is its value and
 * `quota` the setting an operator changes it with (REPOSITORIES_PER_NAMESPACE, ...), so a
 * client can tell which limit it hit without reading the detail.
 */
export class LimitError extends HttpError {
  constructor(
    status: number,
    code: string,
    detail: string,
    readonly limit: number,
    readonly quota?: string,
  ) {
    super(status, code, detail);
  }

  override toProblem(): ProblemBody {
    return { ...super.toProblem(), limit: this.limit, ...(this.quota ? { quota: this.quota } : {}) };
  }
}

export const notFound = (what: string) => new HttpError(404, 'not-found', `${what} was not found`);

export function zodIssuesToFieldErrors(issues: z.core.$ZodIssue[], root?: string): FieldError[] {
  return issues.map((issue) => {
    // A path segment is often a key the client chose (a header name): never echo all of it.
    const segments = issue.path.map((segment) => clip(String(segment), 64));
    const path = [root, ...segments].filter((p) => p !== undefined && p !== '').join('.');
    return { path: path || '(body)', message: issue.message };
  });
}

export function validationError(issues: z.core.$ZodIssue[], root?: string): HttpError {
  // Only the listed ones are rendered; the rest are counted (toProblem), not built.
  const errors = zodIssuesToFieldErrors(issues.slice(0, MAX_LISTED_ERRORS), root);
  const first = errors[0];
  const detail = first ? `${first.path}: ${first.message}` : 'the request is invalid';
  return new HttpError(400, 'validation-failed', detail, errors, undefined, issues.length - errors.length);
}

/** Parses with a zod schema or throws a 400 problem naming each field and rule. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, root?: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error.issues, root);
  return result.data;
}

/**
 * 400 naming each read-only field a body sends with a value other than the object's own: an
 * object as read may be sent back edited, but not moved or renamed that way.
 */
export function checkReadOnlyFields(body: object, own: Record<string, unknown>): void {
  const sent = body as Record<string, unknown>;
  const errors = Object.keys(own)
    .filter((field) => sent[field] !== undefined && sent[field] !== own[field])
    .map((field) => ({
      path: field,
      message: `${field} is read-only: send ${JSON.stringify(own[field])} or leave it out`,
    }));
  if (errors.length > 0) {
    throw new HttpError(400, 'validation-failed', `${errors[0]!.path}: ${errors[0]!.message}`, errors);
  }
}

/**
 * A request's query string, validated. A parameter given empty (`?status=&cursor=`, as a
 * client fills in a template or a cursor it does not have yet) is an absent one: its
 * default applies.
 */
export function parseQueryOr400<S extends z.ZodType>(schema: S, query: Record<string, unknown>): z.infer<S> {
  const given = Object.fromEntries(Object.entries(query).filter(([, value]) => value !== ''));
  return parseOr400(schema, given, 'query');
}

/** The path of the first `__proto__`, `constructor` or `prototype` key in a parsed body, if any. */
export function findReservedKey(body: unknown): string | undefined {
  const pending: Array<{ value: unknown; path: string }> = [{ value: body, path: '' }];
  while (pending.length > 0) {
    const { value, path } = pending.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        pending.push({ value: item, path: path === '' ? String(index) : `${path}.${index}` });
      });
      continue;
    }
    for (const key of Object.keys(value)) {
      const at = path === '' ? key : `${path}.${key}`;
      if (isReservedKey(key)) return at;
      pending.push({ value: (value as Record<string, unknown>)[key], path: at });
    }
  }
  return undefined;
}

/**
 * 400 for a JSON body that holds a `__proto__`, `constructor` or `prototype` key anywhere,
 * naming where: such a key is dropped by some readers (a spread, a zod record) and means a
 * prototype to others, so it is refused rather than read one way or the other.
 */
export function refuseReservedKeys(): RequestHandler {
  return (req: Request, _res, next) => {
    const at = findReservedKey(req.body);
    if (at === undefined) {
      next();
      return;
    }
    const path = clip(at, MAX_PATH_LENGTH);
    next(
      new HttpError(400, 'validation-failed', `${path}: ${RESERVED_KEY_RULE}`, [
        { path, message: RESERVED_KEY_RULE },
      ]),
    );
  };
}
