// @ts-check
/** What every screen gets from the page. */

/**
 * @typedef {object} ViewContext
 * @property {import('./api.js').Api} api
 * @property {import('./types.js').Route} route
 * @property {boolean} admin signed in with the global admin token
 * @property {(record: import('./types.js').AccessRecord) => void} openRecord
 * @property {(name: string) => void} nameHere names the last breadcrumb once the screen knows it (a trigger's name)
 *
 * @typedef {object} View
 * @property {HTMLElement} element
 * @property {() => void} close stops what the screen runs (live tail, requests)
 */

export {};
