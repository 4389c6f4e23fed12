/**
 * The Alibaba Cloud Container Registry rules for trigger URLs, checked when a
 * trigger is written. Where a receiver can be reached (SSRF) is decided at
 * delivery time by the worker, after DNS, not here.
 */

export type UrlCheck = { ok: true; url: URL } | { ok: false; rule: string };

export const MAX_TRIGGER_URL_LENGTH = 2048;

const ALLOWED_HTTP_PORTS: ReadonlySet<number> = new Set([80, 21, 443, 70, 210, 280, 488, 591, 777]);
const FIRST_UNPRIVILEGED_PORT = 1025;
const LAST_PORT = 65535;

export const HTTP_PORT_RULE =
  'http URLs must use port 80 (the default), 21, 70, 210, 280, 443, 488, 591, 777 or 1025-65535';
export const HTTPS_PORT_RULE = 'https URLs must use port 443 (the default)';

export function isAllowedHttpPort(port: number): boolean {
  return ALLOWED_HTTP_PORTS.has(port) || (port >= FIRST_UNPRIVILEGED_PORT && port <= LAST_PORT);
}

const fail = (rule: string): UrlCheck => ({ ok: false, rule });

// WHATWG URL parsing is forgiving (it strips spaces, accepts `http:host`,
// `http:\\host`, `http:///host`); what is stored must be exactly what is called,
// so the raw text is checked before it is parsed.
export function checkTriggerUrl(raw: string): UrlCheck {
  if (typeof raw !== 'string' || raw.length === 0) return fail('url must not be empty');
  if (raw.length > MAX_TRIGGER_URL_LENGTH) {
    return fail(`url must be at most ${MAX_TRIGGER_URL_LENGTH} characters`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this rejects
  if (/[\u0000-\u0020\u007f]/.test(raw)) return fail('url must not contain spaces or control characters');

  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(raw)?.[1]?.toLowerCase();
  if (scheme === undefined) return fail('url must be absolute, starting with http:// or https://');
  if (scheme !== 'http' && scheme !== 'https') return fail(`url scheme must be http or https, not ${scheme}`);

  const afterScheme = raw.slice(scheme.length + 1);
  if (!afterScheme.startsWith('//')) return fail(`url must start with ${scheme}:// followed by a host`);
  const authority = /^[^/?#\\]*/.exec(afterScheme.slice(2))?.[0] ?? '';
  if (authority.includes('@')) return fail('url must not contain user-info (user:password@)');
  if (authority === '') return fail('url must have a host');
  // WHATWG parsing refuses a zone id ("[fe80::1%25eth0]"); say why rather than "not a valid URL".
  if (/^\[[^\]]*%/.test(authority)) {
    return fail('url must not carry an IPv6 zone id (%25...): it names a network interface of one machine');
  }

  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // An out-of-range port is the likeliest reason worth naming precisely.
    if (/^(?:\[[^\]]*\]|[^:[\]]+):\d+$/.test(authority)) {
      return fail(scheme === 'http' ? HTTP_PORT_RULE : HTTPS_PORT_RULE);
    }
    return fail('url is not a valid URL');
  }
  if (url.hostname === '') return fail('url must have a host');

  // `url.port` is '' both when no port is written and when the scheme default is.
  if (scheme === 'https') return url.port === '' ? { ok: true, url } : fail(HTTPS_PORT_RULE);
  const port = url.port === '' ? 80 : Number(url.port);
  return isAllowedHttpPort(port) ? { ok: true, url } : fail(HTTP_PORT_RULE);
}

// Substrings of query-parameter names whose values must not reach the access
// log. Over-matching ("monkey") only hides a value; under-matching leaks one.
const SECRET_NAME_PARTS = [
  'secret',
  'token',
  'key',
  'sig',
  'password',
  'passwd',
  'pwd',
  'auth',
  'credential',
  'session',
  'jwt',
];

export function looksLikeSecretName(name: string): boolean {
  const lower = name.toLowerCase();
  return SECRET_NAME_PARTS.some((part) => lower.includes(part));
}

export const REDACTED = '***';

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
}

function redactParams(params: string): string {
  return params
    .split('&')
    .map((param) => {
      const eq = param.indexOf('=');
      if (eq < 0 || eq === param.length - 1) return param;
      return looksLikeSecretName(decodeComponent(param.slice(0, eq)))
        ? `${param.slice(0, eq + 1)}${REDACTED}`
        : param;
    })
    .join('&');
}

/**
 * Hides the values of secret-looking query (and fragment) parameters and any
 * password in user-info. Works on the raw text rather than re-serialising a
 * URL object so every other byte stays as the user wrote it.
 */
export function redactUrl(raw: string): string {
  const hashAt = raw.indexOf('#');
  const beforeHash = hashAt < 0 ? raw : raw.slice(0, hashAt);
  const fragment = hashAt < 0 ? undefined : raw.slice(hashAt + 1);
  const queryAt = beforeHash.indexOf('?');
  const base = queryAt < 0 ? beforeHash : beforeHash.slice(0, queryAt);
  const query = queryAt < 0 ? undefined : beforeHash.slice(queryAt + 1);

  const safeBase = base.replace(
    /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#@:]*):[^/?#@]*@/,
    (_match, userPart: string) => `${userPart}:${REDACTED}@`,
  );
  return (
    safeBase +
    (query === undefined ? '' : `?${redactParams(query)}`) +
    (fragment === undefined ? '' : `#${redactParams(fragment)}`)
  );
}
