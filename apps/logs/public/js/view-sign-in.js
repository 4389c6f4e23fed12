// @ts-check
/**
 * Signing in: the token says who it is by what it may read. The global admin may list the
 * namespaces; a namespace token gets 403 there and is tried on the namespace the user names.
 */
import { ApiError, createApi, paths, sentenceOf } from './api.js';
import { byId, clearFieldErrors, say, showFieldErrors, unsay } from './dom.js';
import { cleanToken } from './session.js';

/**
 * Checks a token; resolves with its session, or throws ApiError with the field to blame.
 * @param {string} token
 * @param {string} namespace
 * @returns {Promise<import('./session.js').Session>}
 */
async function identify(token, namespace) {
  const api = createApi(
    () => token,
    () => {},
  );
  try {
    await api.get(paths.namespaces());
    return { token, namespace: null };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 401)
      throw new ApiError(401, error.code, 'This token is not accepted: unknown, revoked or expired.', [
        { path: 'token', message: 'not accepted: unknown, revoked or expired' },
      ]);
    // 403: a namespace token. 404: no api behind this app (CONSOLE_API_URL unset), records only.
    if (error.status !== 403 && !error.isMissingRoute) throw error;
    if (!namespace && error.isMissingRoute)
      throw new ApiError(
        400,
        'namespace-needed',
        'This console reaches the access log only (the logs app forwards nothing to the api: CONSOLE_API_URL is unset): enter a namespace to read.',
        [{ path: 'namespace', message: 'enter a namespace' }],
      );
  }
  if (!namespace)
    throw new ApiError(400, 'namespace-needed', 'A namespace token works in its namespace: enter it.', [
      { path: 'namespace', message: 'enter the namespace of this token' },
    ]);
  try {
    await api.get(`${paths.records({ ns: namespace })}?limit=1`);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 403 || error.status === 400))
      throw new ApiError(
        error.status,
        error.code,
        `This token cannot read ${namespace}: ${sentenceOf(error)}`,
        [{ path: 'namespace', message: 'not a namespace this token can read' }],
      );
    throw error;
  }
  return { token, namespace };
}

/**
 * Wires the sign-in form; `onSignedIn` gets the session of an accepted token.
 * @param {(session: import('./session.js').Session) => void} onSignedIn
 */
export function wireSignIn(onSignedIn) {
  const form = byId('sign-in', HTMLFormElement);
  const token = byId('token', HTMLInputElement);
  const namespace = byId('sign-in-namespace', HTMLInputElement);
  const message = byId('sign-in-message', HTMLElement);
  const button = byId('sign-in-button', HTMLButtonElement);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    unsay(message);
    const value = cleanToken(token.value);
    if (!value) {
      showFieldErrors(form, [{ path: 'token', message: 'paste the admin token or a namespace token' }]);
      return;
    }
    button.disabled = true;
    try {
      const session = await identify(value, namespace.value.trim());
      token.value = '';
      onSignedIn(session);
    } catch (error) {
      const errors = error instanceof ApiError ? error.errors : [];
      showFieldErrors(form, errors);
      say(message, 'error', sentenceOf(error));
    } finally {
      button.disabled = false;
    }
  });
  return {
    /** Shows the form, with why the last session ended, if it did. @param {string} [why] */
    show(why) {
      if (why) say(message, 'error', why);
      else unsay(message);
      token.focus();
    },
    /** @param {string | null} ns */
    prefill(ns) {
      if (ns && !namespace.value) namespace.value = ns;
    },
  };
}
