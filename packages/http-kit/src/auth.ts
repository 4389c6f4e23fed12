/**
 * Bearer authentication shared by the api and logs apps. Three kinds of principal:
 * the admin (every right), the ingest token (post events only) and namespace tokens
 * (everything inside one namespace, nothing outside it).
 */
import {
  digestsEqual,
  type RedisConnection,
  tokenDigest,
  verifyNamespaceToken,
} from '@registry-triggers/store';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { HttpError } from './problem.js';

export type Principal = { kind: 'admin' } | { kind: 'ingest' } | { kind: 'namespace'; namespace: string };

export interface AuthConfig {
  adminToken: string;
  ingestToken?: string | undefined;
  redis: RedisConnection;
}

const unauthorized = () =>
  new HttpError(401, 'unauthorized', 'a valid bearer token is required', undefined, {
    'WWW-Authenticate': 'Bearer realm="registry-triggers"',
  });

function bearerToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

export function authenticate(config: AuthConfig): RequestHandler {
  // The configured tokens are hashed once; each request hashes only the presented one.
  const adminDigest = tokenDigest(config.adminToken);
  const ingestDigest = config.ingestToken ? tokenDigest(config.ingestToken) : undefined;
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const token = bearerToken(req);
      if (!token) throw unauthorized();
      const presented = tokenDigest(token);
      let principal: Principal | undefined;
      if (digestsEqual(presented, adminDigest)) principal = { kind: 'admin' };
      else if (ingestDigest && digestsEqual(presented, ingestDigest)) principal = { kind: 'ingest' };
      else {
        const namespace = await verifyNamespaceToken(config.redis, token);
        if (namespace) principal = { kind: 'namespace', namespace };
      }
      if (!principal) throw unauthorized();
      res.locals.principal = principal;
      next();
    } catch (error) {
      next(error);
    }
  };
}

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw unauthorized();
  return principal;
}

/** Admin only. */
export function requireAdmin(res: Response): void {
  if (principalOf(res).kind !== 'admin')
    throw new HttpError(403, 'forbidden', 'this route needs the admin token');
}

/** Admin or the namespace's own token; another namespace's objects do not exist for a namespace token. */
export function requireNamespace(res: Response, namespace: string): void {
  const principal = principalOf(res);
  if (principal.kind === 'admin') return;
  if (principal.kind === 'ingest')
    throw new HttpError(403, 'forbidden', 'the ingest token may only post push events');
  if (principal.namespace !== namespace)
    throw new HttpError(404, 'not-found', `namespace ${namespace} was not found`);
}
