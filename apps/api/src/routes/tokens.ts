/**
 * Tokens of a namespace (create, list, revoke, rotate) and the namespaces themselves. The
 * secret of a token is in the answer of its creation or rotation only.
 */
import {
  HttpError,
  notFound,
  parseOr400,
  type RouteHandlers,
  requireAdmin,
  requireNamespaceAdmin,
  tokenInputSchema,
  tokenRotationSchema,
} from '@registry-triggers/http-kit';
import {
  createToken,
  type IssuedToken,
  listNamespaces,
  listTokens,
  type RedisConnection,
  revokeToken,
  rotateToken,
} from '@registry-triggers/store';
import type { Request, RequestHandler } from 'express';
import { handle, namespaceOf } from './params.js';

const TOKEN_ID = /^[0-9a-f]{24}$/;

/** These bodies are optional: none at all is `{}`, but one that is not JSON is a 415. */
const optionalJson: RequestHandler = (req, _res, next) => {
  const empty = req.headers['content-length'] === '0' && !req.headers['transfer-encoding'];
  if (!empty && req.is(['application/json']) === false) {
    next(
      new HttpError(
        415,
        'unsupported-media-type',
        `Content-Type must be application/json, not ${req.headers['content-type']}`,
      ),
    );
    return;
  }
  next();
};

const bodyOf = (req: Request): unknown => (req.body === undefined ? {} : req.body);

function tokenIdOf(req: Request): string {
  const id = String(req.params.tokenId);
  if (!TOKEN_ID.test(id)) throw notFound(`token ${id}`);
  return id;
}

const issued = (token: IssuedToken) => ({
  id: token.id,
  token: token.token,
  namespace: token.namespace,
  name: token.name,
  scope: token.scope,
  createdAt: token.createdAt,
  expiresAt: token.expiresAt,
  prefix: token.prefix,
});

export function tokenHandlers(redis: RedisConnection): RouteHandlers {
  const handlers: RouteHandlers = {};

  handlers.listNamespaces = [
    handle(async (_req, res) => {
      requireAdmin(res);
      res.json({ namespaces: await listNamespaces(redis) });
    }),
  ];

  handlers.issueNamespaceToken = [
    optionalJson,
    handle(async (req, res) => {
      const namespace = namespaceOf(req, res);
      requireNamespaceAdmin(res, namespace);
      const input = parseOr400(tokenInputSchema, bodyOf(req));
      const token = await createToken(redis, namespace, {
        name: input.name,
        scope: input.scope,
        expiresAt: input.expiresAt ?? undefined,
      });
      res.status(201).json(issued(token));
    }),
  ];

  handlers.listNamespaceTokens = [
    handle(async (req, res) => {
      const namespace = namespaceOf(req, res);
      requireNamespaceAdmin(res, namespace);
      res.json({ tokens: await listTokens(redis, namespace) });
    }),
  ];

  handlers.revokeNamespaceToken = [
    handle(async (req, res) => {
      const namespace = namespaceOf(req, res);
      requireNamespaceAdmin(res, namespace);
      if (!(await revokeToken(redis, namespace, tokenIdOf(req))))
        throw notFound(`token ${req.params.tokenId}`);
      res.status(204).end();
    }),
  ];

  handlers.rotateNamespaceToken = [
    optionalJson,
    handle(async (req, res) => {
      const namespace = namespaceOf(req, res);
      requireNamespaceAdmin(res, namespace);
      const { graceSeconds = 0 } = parseOr400(tokenRotationSchema, bodyOf(req));
      const token = await rotateToken(redis, namespace, tokenIdOf(req), graceSeconds * 1000);
      if (!token) throw notFound(`token ${req.params.tokenId}`);
      res.status(201).json(issued(token));
    }),
  ];
  return handlers;
}
