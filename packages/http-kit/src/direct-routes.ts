/**
 * The busiest routes (a registry's pushes: one request per pushed tag) served without
 * express's router. The router tries every earlier layer of a request in turn (the public
 * routes, each `/v1` middleware's path) and re-enters itself between layers: on
 * POST /v1/events/push that cost more than the route's own checks (profiled: about a tenth of
 * the api's CPU per event). A direct route runs the same middleware instances the app mounts,
 * in the same order, with the same request and response objects express would give them;
 * only the search for them is skipped. Every other request, and any spelling of a direct
 * route's path that is not its exact one (a trailing slash, other letter case), goes through
 * express as before.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, Express, NextFunction, Request, RequestHandler, Response } from 'express';
import type { HttpMethod } from './route-table.js';

export interface DirectRoute {
  method: HttpMethod;
  /** Exactly as requested, without parameters: `/v1/events/push`. */
  path: string;
  /** Every handler the request passes through, the app's middlewares first. */
  chain: readonly RequestHandler[];
}

type Handle = (req: IncomingMessage, res: ServerResponse, callback?: NextFunction) => void;

/**
 * Makes `app` serve `routes` directly; `onError` answers what a handler of the chain throws or
 * passes to `next` (the app's problem handler). Works wherever the app is used as a request
 * listener (its own `listen`, `http.createServer(app)`, supertest), as express calls `app.handle`.
 */
export function serveDirectly(
  app: Express,
  routes: readonly DirectRoute[],
  onError: ErrorRequestHandler,
): void {
  const byPath = new Map<string, Map<string, DirectRoute>>();
  for (const route of routes) {
    if (route.path.includes('{')) throw new Error(`${route.path}: a direct route has no path parameters`);
    const methods = byPath.get(route.path) ?? new Map<string, DirectRoute>();
    methods.set(route.method, route);
    byPath.set(route.path, methods);
  }
  const appWithHandle = app as unknown as { handle: Handle; request: object; response: object };
  const viaRouter = appWithHandle.handle.bind(app);
  appWithHandle.handle = (req, res, callback) => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const route = byPath.get(query < 0 ? url : url.slice(0, query))?.get(req.method ?? '');
    // A callback means the app is mounted inside another router: that one's rules apply.
    if (!route || callback) {
      viaRouter(req, res, callback);
      return;
    }
    run(route, asExpress(appWithHandle, req, res, route.path), onError);
  };
}

/** What `app.handle` and the router set up before the first handler (express 5). */
function asExpress(
  app: { request: object; response: object },
  rawReq: IncomingMessage,
  rawRes: ServerResponse,
  path: string,
): { req: Request; res: Response } {
  // A server started by listen (http-server.ts) makes them express's already.
  if (!Object.prototype.isPrototypeOf.call(app.request, rawReq)) Object.setPrototypeOf(rawReq, app.request);
  if (!Object.prototype.isPrototypeOf.call(app.response, rawRes)) Object.setPrototypeOf(rawRes, app.response);
  const req = rawReq as Request;
  const res = rawRes as Response;
  req.res = res;
  res.req = req;
  res.locals ??= Object.create(null);
  req.originalUrl = req.url;
  req.baseUrl = '';
  req.params = {};
  // What the metrics label a request by (httpMetrics): the route's pattern, as express's Route has it.
  (req as { route?: { path: string } }).route = { path };
  return { req, res };
}

function run(
  { chain }: DirectRoute,
  { req, res }: { req: Request; res: Response },
  onError: ErrorRequestHandler,
) {
  let index = 0;
  const fail = (error: unknown) => {
    try {
      onError(error, req, res, () => {});
    } catch {
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    }
  };
  const next: NextFunction = (error?: unknown) => {
    if (error !== undefined && error !== null) {
      fail(error);
      return;
    }
    const handler = chain[index++];
    if (!handler) {
      fail(new Error(`${req.method} ${req.originalUrl}: no handler of the direct route answered`));
      return;
    }
    try {
      // Express 5 also passes a handler's rejected promise to next.
      const result = handler(req, res, next) as unknown;
      if (result instanceof Promise) result.catch(next);
    } catch (error) {
      next(error);
    }
  };
  next();
}
