/**
 * Bearer authentication shared by the api and logs apps. Three kinds of principal:
 * the admin (every right), the ingest token (post events only) and namespace tokens
 * (inside one namespace, nothing outside it), whose scope says what they may do there:
 * `admin` everything, `read` every GET, `ingest` only POST /v1/events/*. The token comes as
 * `Authorization: Bearer`, or as `?access_token=` on POST /v1/events/* only.
 */
import {
  digestsEqual,
  type RedisConnection,
  recordTokenUse,
  type TokenScope,
  tokenDigest,
  verifyNamespaceToken,
} from '@registry-triggers/store';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { HttpError } from './problem.js';

export type Principal =
  | { kind: 'admin' }
  | { kind: 'ingest' }
  | { kind: 'namespace'; namespace: string; scope: TokenScope; tokenId: string; expiresAt: number | null };

export interface AuthConfig {
  /** The admin token, or several separated by commas (a rolling rotation). */
  adminToken: string;
  /** The ingest token, or several separated by commas. */
  ingestToken?: string | undefined;
  redis: RedisConnection;
  /** How often an open stream re-checks its token (revocation closes it within about this). */
  recheckMs?: number;
}

/** A token setting: one token or a comma-separated list of them. */
export function splitTokenList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((token) => token.trim())
    .filter((token) => token.length > 0);
}

/** `lastUsedAt` is written at most this often per token and process. */
const TOUCH_EVERY_MS = 60_000;
const MAX_TOUCHED = 100_000;

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

const READ_METHODS = new Set(['GET', 'HEAD']);

/** The path below /v1 (authenticate is mounted there; the routes see the whole path). */
const v1Path = (req: Request) => (req.originalUrl.split('?')[0] ?? '').replace(/^\/v1(?=\/)/, '');

/** The query parameter RFC 6750 §2.3 names, for registries that cannot set a header. */
export const ACCESS_TOKEN_PARAMETER = 'access_token';

const ACCESS_TOKEN_VALUE = /([?&]access_token=)[^&#]*/gi;

/** A URL as it may be logged: the value of every `access_token` replaced by `***`. */
export function redactAccessToken(url: string): string {
  return url.replace(ACCESS_TOKEN_VALUE, '$1***');
}

/** The only requests that may carry the token in the URL: posts of events (POST /v1/events/*). */
const takesQueryToken = (req: Request) => req.method === 'POST' && v1Path(req).startsWith('/events/');

/**
 * The token of a request: the bearer header, or on POST /v1/events/* `?access_token=`.
 * Elsewhere the parameter is refused (a token in a URL ends up in browser histories and
 * proxy logs), and so is a request that sends both (which one would count?).
 */
function presentedToken(req: Request): string | undefined {
  const query = req.originalUrl.indexOf('?');
  const given =
    query < 0 ? [] : new URLSearchParams(req.originalUrl.slice(query + 1)).getAll(ACCESS_TOKEN_PARAMETER);
  if (given.length === 0) return bearerToken(req);
  if (!takesQueryToken(req))
    throw new HttpError(
      400,
      'access-token-not-allowed',
      `${ACCESS_TOKEN_PARAMETER} is accepted only on POST /v1/events/*; send the token as Authorization: Bearer <token>`,
    );
  if (given.length > 1 || req.headers.authorization !== undefined)
    throw new HttpError(
      400,
      'ambiguous-token',
      `send the token once: either the Authorization header or one ${ACCESS_TOKEN_PARAMETER} parameter`,
    );
  return given[0] || undefined;
}

/**
 * 403 when the scope of a namespace token does not allow this request. Requests for another
 * namespace's objects pass here: the route answers 404 for them, as to any other tenant.
 */
function scopeRefusal(principal: Principal, method: string, path: string): HttpError | undefined {
  if (principal.kind !== 'namespace' || principal.scope === 'admin') return undefined;
  const named = /^\/namespaces\/([^/]+)/.exec(path)?.[1];
  if (named !== undefined && safeDecode(named) !== principal.namespace) return undefined;
  if (principal.scope === 'read' && !READ_METHODS.has(method))
    return new HttpError(403, 'forbidden', 'a read token may only read (GET)');
  if (principal.scope === 'ingest' && !(method === 'POST' && path.startsWith('/events/')))
    return new HttpError(403, 'forbidden', 'an ingest token may only post events (POST /v1/events/*)');
  return undefined;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

interface TokenWatch {
  listeners: Set<() => void>;
  timer: NodeJS.Timeout;
}

export function authenticate(config: AuthConfig): RequestHandler {
  // The configured tokens are hashed once; each request hashes only the presented one.
  const adminDigests = splitTokenList(config.adminToken).map(tokenDigest);
  const ingestDigests = splitTokenList(config.ingestToken).map(tokenDigest);
  const recheckMs = config.recheckMs ?? 250;
  const touched = new Map<string, number>();
  // One re-check per token however many streams it holds open.
  const watches = new Map<string, TokenWatch>();

  function touch(namespace: string, digest: string, now: number) {
    const last = touched.get(digest);
    if (last !== undefined && now - last < TOUCH_EVERY_MS) return;
    if (touched.size >= MAX_TOUCHED) touched.clear();
    touched.set(digest, now);
    recordTokenUse(config.redis, namespace, digest, now).catch(() => touched.delete(digest));
  }

  function watch(token: string, digest: string, onLost: () => void): () => void {
    let entry = watches.get(digest);
    if (!entry) {
      const listeners = new Set<() => void>();
      let checking = false;
      const timer = setInterval(async () => {
        if (checking) return;
        checking = true;
        try {
          // Unknown, revoked or expired all end every stream of the token; a Redis error does not.
          const grant = await verifyNamespaceToken(config.redis, token);
          if (!grant) for (const lost of [...listeners]) lost();
        } catch {
        } finally {
          checking = false;
        }
      }, recheckMs);
      timer.unref();
      entry = { listeners, timer };
      watches.set(digest, entry);
    }
    const current = entry;
    current.listeners.add(onLost);
    return () => {
      current.listeners.delete(onLost);
      if (current.listeners.size === 0) {
        clearInterval(current.timer);
        if (watches.get(digest) === current) watches.delete(digest);
      }
    };
  }

  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const token = presentedToken(req);
      if (!token) throw unauthorized().because('no bearer token');
      const presented = tokenDigest(token);
      let principal: Principal | undefined;
      if (adminDigests.some((digest) => digestsEqual(presented, digest))) principal = { kind: 'admin' };
      else if (ingestDigests.some((digest) => digestsEqual(presented, digest)))
        principal = { kind: 'ingest' };
      else {
        const now = Date.now();
        const grant = await verifyNamespaceToken(config.redis, token, now);
        if (grant) {
          principal = {
            kind: 'namespace',
            namespace: grant.namespace,
            scope: grant.scope,
            tokenId: grant.id,
            expiresAt: grant.expiresAt,
          };
          touch(grant.namespace, grant.digest, now);
          const { digest } = grant;
          res.locals.watchAccess = (onLost: () => void) => watch(token, digest, onLost);
        }
      }
      if (!principal) throw unauthorized().because('the token is unknown, revoked or expired');
      // Known before the scope check: the refusal's log line names who was refused.
      res.locals.principal = principal;
      const refused = scopeRefusal(principal, req.method, v1Path(req));
      if (refused) throw refused;
      res.locals.tokenDigest = presented.toString('hex');
      next();
    } catch (error) {
      next(error);
    }
  };
}

/**
 * The hex sha256 of the request's token, once `authenticate` let it through: what per-token
 * limits count by (never the token itself, which must not reach Redis keys or logs).
 */
export function tokenDigestOf(res: Response): string {
  const digest = res.locals.tokenDigest as string | undefined;
  if (digest === undefined) throw new Error('tokenDigestOf: the request was not authenticated');
  return digest;
}

/**
 * Calls `onLost` once the request's token stops working (revoked, rotated out or expired),
 * for responses that outlive the request, such as an event stream. Returns the function
 * that stops watching. The admin and ingest tokens are settings: they never stop.
 */
export function watchAccess(res: Response, onLost: () => void): () => void {
  const principal = res.locals.principal as Principal | undefined;
  const start = res.locals.watchAccess as ((lost: () => void) => () => void) | undefined;
  if (principal?.kind !== 'namespace' || !start) return () => {};
  let fired = false;
  const lost = () => {
    if (fired) return;
    fired = true;
    stop();
    onLost();
  };
  const stopWatch = start(lost);
  // The expiry is known now: no need to wait for a re-check to find it.
  const expiry =
    principal.expiresAt === null
      ? undefined
      : setTimeout(lost, Math.max(0, Math.min(principal.expiresAt - Date.now(), 2 ** 31 - 1)));
  expiry?.unref();
  function stop() {
    stopWatch();
    if (expiry) clearTimeout(expiry);
  }
  return stop;
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

/**
 * Admin or the namespace's own token, within its scope; another namespace's objects do not
 * exist for a namespace token.
 */
export function requireNamespace(res: Response, namespace: string): void {
  const principal = principalOf(res);
  if (principal.kind === 'admin') return;
  if (principal.kind === 'ingest')
    throw new HttpError(403, 'forbidden', 'the ingest token may only post push events');
  if (principal.namespace !== namespace)
    throw new HttpError(404, 'not-found', `namespace ${namespace} was not found`);
  const refused = scopeRefusal(principal, res.req.method, v1Path(res.req));
  if (refused) throw refused;
}

/** Admin, or an `admin`-scope token of the namespace (managing the namespace's tokens). */
export function requireNamespaceAdmin(res: Response, namespace: string): void {
  requireNamespace(res, namespace);
  const principal = principalOf(res);
  if (principal.kind === 'namespace' && principal.scope !== 'admin')
    throw new HttpError(403, 'forbidden', `a ${principal.scope} token cannot manage tokens`);
}
