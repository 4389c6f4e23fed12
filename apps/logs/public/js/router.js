// @ts-check
/**
 * Where the console is lives in the address: `?ns=&repo=&trigger=&record=&status=`, so a link
 * or a reload lands on the same screen. A nested repository reads `repo=team/web` or
 * `repo=team%2Fweb`; nobody has to type the `%2F`. Never the token.
 */

/** @typedef {import('./types.js').Route} Route */

const KEYS = /** @type {const} */ (['ns', 'repo', 'trigger', 'record', 'status']);

/** @returns {Route} */
export function currentRoute() {
  const params = new URLSearchParams(location.search);
  /** @param {string} key */
  const read = (key) => {
    const value = params.get(key)?.trim() ?? '';
    return value === '' ? null : value;
  };
  const repo = read('repo')?.replace(/^\/+|\/+$/g, '') || null;
  return { ns: read('ns'), repo, trigger: read('trigger'), record: read('record'), status: read('status') };
}

/** @param {Partial<Route>} route */
export function hrefOf(route) {
  const params = new URLSearchParams();
  for (const key of KEYS) {
    const value = route[key];
    if (value) params.set(key, value);
  }
  // Slashes stay readable in the address bar: `repo=team/web` is a valid query.
  const search = params.toString().replaceAll('%2F', '/');
  return search ? `?${search}` : location.pathname;
}

/** @type {Set<(route: Route) => void>} */
const listeners = new Set();

/**
 * Goes to `route`: a new history entry (or the same one, `replace`), then every listener.
 * @param {Partial<Route>} route
 * @param {{ replace?: boolean }} [options]
 */
export function navigate(route, options = {}) {
  const href = hrefOf(route);
  if (options.replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  for (const listener of listeners) listener(currentRoute());
}

/**
 * Changes the address without a new screen (a record opened or closed, a status chosen).
 * @param {Partial<Route>} changes
 */
export function amendRoute(changes) {
  history.replaceState(null, '', hrefOf({ ...currentRoute(), ...changes }));
}

/** @param {(route: Route) => void} listener */
export function onRouteChange(listener) {
  listeners.add(listener);
  window.addEventListener('popstate', () => listener(currentRoute()));
}

/**
 * Plain links that navigate inside the page (a middle click still opens a tab).
 * @param {Partial<Route>} route
 * @param {import('./dom.js').Child[]} children
 */
export function routeLink(route, ...children) {
  const link = document.createElement('a');
  link.href = hrefOf(route);
  for (const child of children.flat()) if (child) link.append(child instanceof Node ? child : String(child));
  link.addEventListener('click', (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(route);
  });
  return link;
}
