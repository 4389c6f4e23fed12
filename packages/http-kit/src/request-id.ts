/**
 * Request ids: a caller's `X-Request-Id` is taken when it is short and plain (a proxy's or a
 * registry's own id), else one is made; either way it is answered in the same header, logged
 * with every refusal and carried with the push to its deliveries and records.
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler, Response } from 'express';

export const REQUEST_ID_HEADER = 'X-Request-Id';
/** Letters, digits and `._:/+=@-`, 1 to 128 of them: UUIDs, ULIDs and trace ids fit, log injection does not. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:/+=@-]{1,128}$/;

/** The caller's id when it is acceptable, else a new one. */
export function acceptRequestId(given: string | string[] | undefined): string {
  const value = Array.isArray(given) ? undefined : given?.trim();
  return value !== undefined && REQUEST_ID_PATTERN.test(value) ? value : randomUUID();
}

export function requestIds(): RequestHandler {
  return (req, res, next) => {
    const id = acceptRequestId(req.headers['x-request-id']);
    res.locals.requestId = id;
    res.setHeader(REQUEST_ID_HEADER, id);
    next();
  };
}

/** The request id of a response (undefined outside an app that mounts `requestIds`). */
export function requestIdOf(res: Response): string | undefined {
  return res.locals.requestId as string | undefined;
}
