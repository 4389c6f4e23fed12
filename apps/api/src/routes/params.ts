/** Path parameters shared by the api routes, validated with the distribution name rules. */
import {
  fullNameLengthRule,
  isFullNameWithinLimit,
  namespaceNameSchema,
  repositoryNameSchema,
} from '@registry-triggers/core';
import { HttpError, parseOr400, requireNamespace } from '@registry-triggers/http-kit';
import type { Request, RequestHandler, Response } from 'express';
import { z } from 'zod';

const namespaceParams = z.object({ ns: namespaceNameSchema });
const repositoryParams = namespaceParams
  .extend({ repo: repositoryNameSchema })
  .refine((params) => isFullNameWithinLimit(params.ns, params.repo), {
    message: fullNameLengthRule,
    path: ['repo'],
    // Only for halves that are valid on their own: an over-long repository says so once.
    when: (payload) => payload.issues.length === 0,
  });

/** The namespace of the path, checked against the caller's token. */
export function namespaceOf(req: Request, res: Response): string {
  const { ns } = parseOr400(namespaceParams, { ns: req.params.ns }, 'path');
  requireNamespace(res, ns);
  return ns;
}

export function repositoryOf(req: Request, res: Response): { namespace: string; repository: string } {
  const { ns, repo } = parseOr400(repositoryParams, { ns: req.params.ns, repo: req.params.repo }, 'path');
  requireNamespace(res, ns);
  return { namespace: ns, repository: repo };
}

/** 415 unless the body is one of the given media types (a JSON body is required on these routes). */
export function requireMediaType(types: string[]): RequestHandler {
  return (req, _res, next) => {
    if (!req.is(types)) {
      next(
        new HttpError(
          415,
          'unsupported-media-type',
          `Content-Type must be ${types.join(' or ')}${req.headers['content-type'] ? `, not ${req.headers['content-type']}` : ''}`,
        ),
      );
      return;
    }
    next();
  };
}

/** Wraps an async handler so rejections reach the problem handler (express 5 does this too; kept explicit). */
export const handle =
  (fn: (req: Request, res: Response) => Promise<void> | void): RequestHandler =>
  async (req, res, next) => {
    try {
      await fn(req, res);
    } catch (error) {
      next(error);
    }
  };
