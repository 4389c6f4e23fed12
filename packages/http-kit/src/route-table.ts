/**
 * The route tables: each route of the api and the logs app declared once (method, path, who may
 * call it, its OpenAPI operation), from which the apps mount their express handlers, the 405
 * answer finds a path's methods, the logs app's proxy knows what it serves itself, and
 * openapi.ts writes the document. Handlers are the apps' (apps import packages, never the
 * reverse): `mountRoutes` takes them by operationId and refuses a table and handlers that differ.
 */
import type { RequestHandler, Router } from 'express';
import type { JsonSchema, OperationSpec } from './openapi-parts.js';

export type HttpMethod = 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
export type AppName = 'api' | 'logs';

/**
 * Who may call a route: `admin-token` / `ingest-token` are ADMIN_TOKEN and INGEST_TOKEN, the
 * others a namespace token of that scope (for its own namespace; another's objects are 404).
 */
export type RouteCaller = 'admin-token' | 'ingest-token' | 'admin' | 'read' | 'ingest';

export interface RouteSpec extends OperationSpec {
  method: HttpMethod;
  /** As OpenAPI writes it: `/v1/namespaces/{ns}`. */
  path: string;
  /** The apps that serve it. */
  apps: readonly AppName[];
  /** The path item's parameters (every route of one path declares the same). */
  pathParameters?: JsonSchema[];
  /** Who may call it; empty for a public route (no token at all). */
  callers: readonly RouteCaller[];
}

export type RouteInput = Omit<RouteSpec, 'apps'> & { apps?: readonly AppName[] };

export function defineRoute(input: RouteInput): RouteSpec {
  const route: RouteSpec = { apps: ['api'], ...input };
  if ((route.public ?? false) !== (route.callers.length === 0))
    throw new Error(`${routeKey(route)}: a public route has no callers, a secured one names them`);
  return route;
}

/** `METHOD /path/{param}`, as the OpenAPI document names an operation. */
export const routeKey = (route: Pick<RouteSpec, 'method' | 'path'>): string =>
  `${route.method} ${route.path}`;

export const routesOf = (table: readonly RouteSpec[], app: AppName): RouteSpec[] =>
  table.filter((route) => route.apps.includes(app));

/** The express form of a path: `{ns}` becomes `:ns`. */
export const expressPath = (path: string): string => path.replace(/\{(\w+)\}/g, ':$1');

const matchers = new WeakMap<RouteSpec, RegExp>();

/** Whether `path` (undecoded, as `req.path`) is a path of the route, as express matches it. */
function matchesPath(route: RouteSpec, path: string): boolean {
  let matcher = matchers.get(route);
  if (!matcher) {
    const pattern = route.path
      .split(/\{\w+\}/)
      .map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
      .join('[^/]+');
    // express: case-insensitive, one trailing slash allowed.
    matcher = new RegExp(`^${pattern}/?$`, 'i');
    matchers.set(route, matcher);
  }
  return matcher.test(path);
}

/** The methods the routes serve on `path` (HEAD wherever GET is, as express answers it). */
export function methodsServing(routes: readonly RouteSpec[], path: string): string[] {
  const methods = new Set<string>(
    routes.filter((route) => matchesPath(route, path)).map((route) => route.method),
  );
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

export type RouteHandlers = Record<string, RequestHandler | RequestHandler[]>;

/**
 * Mounts on `router` the handlers of `routes`, in the table's order, each at its method and
 * path. Throws (at start-up) when a route has no handler or a handler no route.
 */
export function mountRoutes(router: Router, routes: readonly RouteSpec[], handlers: RouteHandlers): void {
  const ids = new Set(routes.map((route) => route.operationId));
  const unknown = Object.keys(handlers).filter((id) => !ids.has(id));
  if (unknown.length > 0) throw new Error(`handlers for no route of the table: ${unknown.join(', ')}`);
  for (const route of routes) {
    const handler = handlers[route.operationId];
    if (!handler) throw new Error(`no handler for ${routeKey(route)} (${route.operationId})`);
    const method = route.method.toLowerCase() as Lowercase<HttpMethod>;
    router[method](expressPath(route.path), ...[handler].flat());
  }
}
