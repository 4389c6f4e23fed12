// @ts-check
/**
 * The console's one way to the API (this origin: the logs app serves the access log and
 * forwards every other route to the api). Problems come back as ApiError; a 401 anywhere
 * means the token stopped working, and the page goes back to sign-in.
 */

/** @typedef {{ path: string, message: string }} FieldError */

export class ApiError extends Error {
  /**
   * @param {number} status 0 when the server could not be reached
   * @param {string} code the problem's stable code
   * @param {string} detail what the user reads
   * @param {FieldError[]} [errors]
   */
  constructor(status, code, detail, errors = []) {
    super(detail);
    this.status = status;
    this.code = code;
    this.errors = errors;
  }

  /** The route is not there (an api older than this console): a feature to hide, not an error. */
  get isMissingRoute() {
    return (this.status === 404 && this.code === 'route-not-found') || this.status === 405;
  }
}

const enc = encodeURIComponent;

/**
 * The contract's paths. encodeURIComponent turns the slashes of a nested repository into
 * %2F, one path segment, as the API wants: the user types `team/web`.
 */
export const paths = {
  namespaces: () => '/v1/namespaces',
  /** @param {string} ns */
  repositories: (ns) => `/v1/namespaces/${enc(ns)}/repositories`,
  /** @param {string} ns @param {string} repo */
  repository: (ns, repo) => `${paths.repositories(ns)}/${enc(repo)}`,
  /** @param {string} ns @param {string} repo */
  triggers: (ns, repo) => `${paths.repository(ns, repo)}/triggers`,
  /** @param {string} ns @param {string} repo @param {string} id */
  trigger: (ns, repo, id) => `${paths.triggers(ns, repo)}/${enc(id)}`,
  /** @param {string} ns @param {string} repo @param {string} id */
  triggerTest: (ns, repo, id) => `${paths.trigger(ns, repo, id)}/test`,
  /** @param {import('./types.js').AccessRecord} record @param {'redeliver' | 'cancel'} action */
  recordAction: (record, action) =>
    `${paths.trigger(record.namespace, record.repository, record.triggerId)}/records/${enc(record.id)}/${action}`,
  /**
   * The records of a trigger, a repository or a namespace.
   * @param {{ ns: string, repo?: string | null, trigger?: string | null }} scope
   */
  records: ({ ns, repo, trigger }) =>
    repo && trigger
      ? `${paths.trigger(ns, repo, trigger)}/records`
      : repo
        ? `${paths.repository(ns, repo)}/records`
        : `/v1/namespaces/${enc(ns)}/records`,
  /** @param {string} ns @param {string} id */
  record: (ns, id) => `/v1/namespaces/${enc(ns)}/records/${enc(id)}`,
  /** @param {string} ns */
  stream: (ns) => `/v1/namespaces/${enc(ns)}/records/stream`,
  /** @param {string} ns */
  tokens: (ns) => `/v1/namespaces/${enc(ns)}/tokens`,
  /** @param {string} ns @param {string} id */
  token: (ns, id) => `${paths.tokens(ns)}/${enc(id)}`,
  /** @param {string} ns @param {string} id */
  tokenRotate: (ns, id) => `${paths.token(ns, id)}/rotate`,
};

/** problem+json (or anything else) → ApiError. @param {Response} response */
export async function problemOf(response) {
  let detail = `${response.status} ${response.statusText}`.trim();
  let code = '';
  /** @type {FieldError[]} */
  let errors = [];
  try {
    const problem = await response.json();
    detail = problem.detail || problem.title || detail;
    code = typeof problem.code === 'string' ? problem.code : '';
    if (Array.isArray(problem.errors)) errors = problem.errors;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, code, detail, errors);
}

/**
 * @typedef {object} RequestOptions
 * @property {unknown} [body] sent as JSON
 * @property {string} [contentType] default application/json
 * @property {AbortSignal} [signal]
 */

/**
 * @param {() => string} token the signed-in token, read at each request
 * @param {(error: ApiError) => void} onUnauthorized
 */
export function createApi(token, onUnauthorized) {
  /**
   * @param {string} method
   * @param {string} path
   * @param {RequestOptions} [options]
   * @returns {Promise<{ body: any, status: number, date: string | null }>}
   */
  async function request(method, path, options = {}) {
    /** @type {Record<string, string>} */
    const headers = { Authorization: `Bearer ${token()}`, Accept: 'application/json' };
    if (options.body !== undefined) headers['Content-Type'] = options.contentType ?? 'application/json';
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        cache: 'no-store',
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new ApiError(0, 'unreachable', `Could not reach the server (${String(error)}).`);
    }
    if (!response.ok) {
      const problem = await problemOf(response);
      if (response.status === 401) onUnauthorized(problem);
      throw problem;
    }
    const text = await response.text();
    return {
      body: text ? JSON.parse(text) : null,
      status: response.status,
      date: response.headers.get('date'),
    };
  }

  return {
    request,
    token,
    /** Reports a 401 met outside `request` (the live tail's). */
    unauthorized: onUnauthorized,
    /** @param {string} path @param {AbortSignal} [signal] */
    get: (path, signal) => request('GET', path, signal ? { signal } : {}),
    /** @param {string} path @param {unknown} [body] */
    post: (path, body) => request('POST', path, body === undefined ? {} : { body }),
    /** @param {string} path @param {unknown} body */
    put: (path, body) => request('PUT', path, { body }),
    /** @param {string} path @param {unknown} body */
    patch: (path, body) => request('PATCH', path, { body, contentType: 'application/merge-patch+json' }),
    /** @param {string} path */
    del: (path) => request('DELETE', path),
  };
}

/** @typedef {ReturnType<typeof createApi>} Api */

/** The sentence a problem says to the user, ending with a full stop. @param {unknown} error */
export function sentenceOf(error) {
  const text = error instanceof Error ? error.message : String(error);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** The field errors a refusal carries (none for anything else). @param {unknown} error */
export const fieldErrorsOf = (error) => (error instanceof ApiError ? error.errors : []);
