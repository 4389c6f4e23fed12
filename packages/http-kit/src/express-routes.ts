/**
 * The routes an express app serves, read off its router: the methods a path takes (the 405
 * answer's `Allow`) and every route as the OpenAPI document names it (the document's tests).
 */

// Express keeps its routes on internal layers (the `router` package): loosely typed on purpose.
// biome-ignore lint/suspicious/noExplicitAny: see above
type Layer = any;

/** Every route layer of the app, nested routers included. */
function routeLayers(app: object): Layer[] {
  const found: Layer[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) found.push(layer);
      else if (Array.isArray(layer.handle?.stack)) walk(layer.handle.stack);
    }
  };
  walk((app as Layer).router.stack);
  return found;
}

const methodsOf = (layer: Layer): string[] =>
  Object.keys(layer.route.methods)
    .filter((method) => method !== '_all')
    .map((method) => method.toUpperCase());

/** The methods the app's routes serve on `path` (HEAD wherever GET is, as express answers it). */
export function methodsServing(app: object, path: string): string[] {
  const methods = new Set(routeLayers(app).flatMap((layer) => (layer.match(path) ? methodsOf(layer) : [])));
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

/** `METHOD /path/{param}` of every route the app serves, sorted (a route may hold several paths). */
export function expressRoutes(app: object): string[] {
  return routeLayers(app)
    .flatMap((layer) => {
      const paths: string[] = [layer.route.path].flat();
      return methodsOf(layer).flatMap((method) =>
        paths.map((path) => `${method} ${path.replace(/:(\w+)/g, '{$1}')}`),
      );
    })
    .sort();
}
