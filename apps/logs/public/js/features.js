// @ts-check
/**
 * What this deployment's API offers, read once from its OpenAPI document, so the console
 * shows a control only where the route exists (an api without delivery cancel has no Cancel
 * button) and uses a JSON Merge Patch where the api takes one.
 */

/**
 * @typedef {object} Features
 * @property {boolean} cancel POST .../records/{recordId}/cancel
 * @property {boolean} patchTrigger PATCH .../triggers/{id}
 */

/** @type {Promise<Features> | null} */
let loaded = null;

/** @returns {Promise<Features>} */
export function features() {
  loaded ??= fetch('/openapi.json', { headers: { Accept: 'application/json' } })
    .then((response) => (response.ok ? response.json() : { paths: {} }))
    .then((document) => {
      /** @type {Record<string, Record<string, unknown>>} */
      const routes = document?.paths ?? {};
      const entries = Object.entries(routes);
      return {
        cancel: entries.some(
          ([path, methods]) => /\/records\/\{[^}]+\}\/cancel$/.test(path) && 'post' in methods,
        ),
        patchTrigger: entries.some(
          ([path, methods]) => /\/triggers\/\{[^}]+\}$/.test(path) && 'patch' in methods,
        ),
      };
    })
    .catch(() => ({ cancel: false, patchTrigger: false }));
  return loaded;
}
