/**
 * Extra request headers a trigger may add. Headers that frame the request or
 * that the delivery itself owns (Content-Type, webhook-*) cannot be replaced,
 * so a receiver can always trust them.
 */
import { quoteInput } from './quote.js';

export const MAX_CUSTOM_HEADERS = 20;
export const MAX_HEADER_VALUE_LENGTH = 4096;

// RFC 9110 token.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Field values may hold visible characters, spaces and tabs; CR/LF would
// split the request, and undici refuses NUL and the other controls anyway.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this finds
const CONTROL_CHARACTER = /[\u0000-\u0008\u000a-\u001f\u007f]/;

const FORBIDDEN_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'content-type',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  // undici refuses to send it, so every delivery would fail.
  'expect',
]);
const FORBIDDEN_PREFIXES = ['proxy-', 'webhook-'];

export function isForbiddenHeaderName(name: string): boolean {
  const lower = name.toLowerCase();
  return FORBIDDEN_HEADERS.has(lower) || FORBIDDEN_PREFIXES.some((prefix) => lower.startsWith(prefix));
}

export interface HeaderIssue {
  /** The header name the issue is about, or undefined for the whole set. */
  name: string | undefined;
  rule: string;
}

export const HEADER_COUNT_RULE = `headers may hold at most ${MAX_CUSTOM_HEADERS} entries`;

/**
 * The rules of a set of custom headers, one issue per broken rule and header. Past the count
 * limit nothing else is looked at: the answer is that one rule, however many names a client
 * sent (a body of 200,000 invalid names must not cost 200,000 issues).
 */
export function checkCustomHeaders(headers: Readonly<Record<string, string>>): HeaderIssue[] {
  const issues: HeaderIssue[] = [];
  const names = Object.keys(headers);
  if (names.length > MAX_CUSTOM_HEADERS) return [{ name: undefined, rule: HEADER_COUNT_RULE }];
  const seen = new Set<string>();
  for (const name of names) {
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name)) {
      issues.push({ name, rule: `header name ${quoteInput(name)} is not a valid HTTP header name` });
    } else if (isForbiddenHeaderName(name)) {
      issues.push({
        name,
        rule: `header ${quoteInput(name)} cannot be set: Host, Content-Type, Content-Length, Transfer-Encoding, Connection, Keep-Alive, Upgrade, TE, Trailer, Expect, Proxy-* and webhook-* are set by the delivery`,
      });
    } else if (seen.has(lower)) {
      issues.push({ name, rule: `header ${quoteInput(name)} is given twice (names ignore case)` });
    }
    seen.add(lower);
    const value = headers[name];
    if (typeof value !== 'string') continue; // the record schema reports the type
    if (CONTROL_CHARACTER.test(value)) {
      issues.push({
        name,
        rule: `header ${quoteInput(name)} must not contain CR, LF or other control characters`,
      });
    } else if (value.length > MAX_HEADER_VALUE_LENGTH) {
      issues.push({
        name,
        rule: `header ${quoteInput(name)} must be at most ${MAX_HEADER_VALUE_LENGTH} characters`,
      });
    }
  }
  return issues;
}
