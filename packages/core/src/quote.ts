/**
 * Quoting what a client sent inside an error message. A message may name the input it is
 * about ("header name "X Y" is not valid"), but never echo megabytes of it back: a client
 * that sends a huge name gets a short message, and the api a small answer to build.
 */

/** The longest stretch of a client's input a message repeats. */
export const MAX_QUOTED_LENGTH = 64;

/** The text in double quotes, cut to `max` characters with an ellipsis and the full length. */
export function quoteInput(text: string, max = MAX_QUOTED_LENGTH): string {
  if (text.length <= max) return `"${text}"`;
  return `"${text.slice(0, max)}…" (${text.length} characters)`;
}

/** A list of field names for a message: at most `max` of them (each cut short), then how many more. */
export function quoteNames(names: readonly string[], max = 5): string {
  const listed = names
    .slice(0, max)
    .map((name) => (name.length <= MAX_QUOTED_LENGTH ? name : `${name.slice(0, MAX_QUOTED_LENGTH)}…`));
  const rest = names.length - listed.length;
  return rest > 0 ? `${listed.join(', ')} and ${rest} more` : listed.join(', ');
}

/**
 * Object keys that JavaScript gives a meaning of their own. JSON.parse keeps `__proto__` as a
 * plain key, but a spread or a zod record drops it and an assignment sets a prototype, so a
 * body that holds one would be read differently by different code: refused, by name.
 */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export const isReservedKey = (key: string): boolean => RESERVED_KEYS.has(key);

export const RESERVED_KEY_RULE = '__proto__, constructor and prototype are not allowed as field names';
