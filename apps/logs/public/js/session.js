// @ts-check
/**
 * The signed-in token, kept in this tab only (sessionStorage: gone when the tab closes, never
 * in the address, never in localStorage), and what it is: the global admin or a namespace's.
 */

const TOKEN_KEY = 'registry-triggers.console.token';
const NAMESPACE_KEY = 'registry-triggers.console.namespace';

/**
 * @typedef {object} Session
 * @property {string} token
 * @property {string | null} namespace the namespace of a namespace token; null for the global admin
 */

/** @returns {Session | null} */
export function readSession() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return null;
  return { token, namespace: sessionStorage.getItem(NAMESPACE_KEY) };
}

/** @param {Session} session */
export function saveSession(session) {
  sessionStorage.setItem(TOKEN_KEY, session.token);
  if (session.namespace) sessionStorage.setItem(NAMESPACE_KEY, session.namespace);
  else sessionStorage.removeItem(NAMESPACE_KEY);
}

export function clearSession() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(NAMESPACE_KEY);
}

/** A pasted token, without the `Bearer ` a user may copy along. @param {string} text */
export const cleanToken = (text) => text.trim().replace(/^bearer\s+/i, '');
