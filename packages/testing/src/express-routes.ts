/** The routes an express app serves, as the OpenAPI tests of both apps compare them to the document. */
// Express keeps its routes on internal layers: loosely typed on purpose.
// biome-ignore lint/suspicious/noExplicitAny: see above
type Layer = any;

/** `METHOD /path/{param}` of every route the app serves, sorted (a route may hold several paths). */
export function expressRoutes(app: object): string[] {
  const found: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths: string[] = [layer.route.path].flat();
        for (const method of Object.keys(layer.route.methods)) {
          if (method === '_all') continue;
          for (const path of paths) found.push(`${method.toUpperCase()} ${path.replace(/:(\w+)/g, '{$1}')}`);
        }
      } else if (Array.isArray(layer.handle?.stack)) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as Layer).router.stack);
  return found.sort();
}
