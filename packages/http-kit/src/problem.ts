/** Errors that cross the HTTP boundary, rendered as RFC 9457 problem+json by one handler. */
import type { z } from 'zod';

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
  500: 'Internal Server Error',
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
  ) {
    super(detail);
    this.name = 'HttpError';
  }

  toProblem(): ProblemBody {
    return {
      type: `https://registry-triggers.dev/problems/${this.code}`,
      title: TITLES[this.status] ?? 'Error',
      status: this.status,
      detail: this.message,
      code: this.code,
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

export const notFound = (what: string) => new HttpError(404, 'not-found', `${what} was not found`);

export function zodIssuesToFieldErrors(issues: z.core.$ZodIssue[], root?: string): FieldError[] {
  return issues.map((issue) => {
    const path = [root, ...issue.path.map(String)].filter((p) => p !== undefined && p !== '').join('.');
    return { path: path || '(body)', message: issue.message };
  });
}

export function validationError(issues: z.core.$ZodIssue[], root?: string): HttpError {
  const errors = zodIssuesToFieldErrors(issues, root);
  const first = errors[0];
  const detail = first ? `${first.path}: ${first.message}` : 'the request is invalid';
  return new HttpError(400, 'validation-failed', detail, errors);
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
