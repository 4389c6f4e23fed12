/**
 * Which triggers fire for a pushed tag. Expressions run on re2js, a port of
 * RE2: matching is linear in the tag length, so a user's expression cannot
 * stall a worker (ReDoS).
 */
import { RE2JS } from 're2js';
import { BoundedCache } from './bounded-cache.js';
import type { Trigger } from './trigger.js';

export type TagFilter = (tag: string) => boolean;
export type TriggerFilter = Pick<Trigger, 'type' | 'tags' | 'expression'>;

export const MAX_EXPRESSION_LENGTH = 256;

export type ExpressionCheck = { ok: true } | { ok: false; rule: string };

const LINEAR_TIME = 'the expression must run in a linear-time (RE2) engine';

// re2js reports unsupported syntax with the offending text in backquotes;
// these turn the common Perl/JavaScript habits into a rule the user can act on.
function explainSyntaxError(message: string): string {
  if (message.includes('`(?=') || message.includes('`(?!')) {
    return `look-ahead (?= and (?! is not supported: ${LINEAR_TIME}`;
  }
  if (message.includes('`(?<=') || message.includes('`(?<!')) {
    return `look-behind (?<= and (?<! is not supported: ${LINEAR_TIME}`;
  }
  if (/invalid escape sequence: `\\(?:[1-9]|k)/.test(message)) {
    return `back-references (\\1, \\k<name>) are not supported: ${LINEAR_TIME}`;
  }
  const detail = message.replace(/^error parsing regexp: /, '');
  return `expression is not a valid RE2 regular expression: ${detail}`;
}

function compileExpression(expression: string): RE2JS {
  return RE2JS.compile(expression);
}

export function checkExpression(expr: string): ExpressionCheck {
  if (typeof expr !== 'string' || expr.length === 0)
    return { ok: false, rule: 'expression must not be empty' };
  if (expr.length > MAX_EXPRESSION_LENGTH) {
    return { ok: false, rule: `expression must be at most ${MAX_EXPRESSION_LENGTH} characters` };
  }
  try {
    compileExpression(expr);
    return { ok: true };
  } catch (error) {
    return { ok: false, rule: explainSyntaxError(error instanceof Error ? error.message : String(error)) };
  }
}

const matchAll: TagFilter = () => true;

/**
 * Throws when the filter is incomplete (a TAG_LIST without tags, a
 * TAG_REG_EXP without a valid expression): triggers are validated when they
 * are written, so this is a bug or corrupt data, not an expected outcome.
 */
export function compileTagFilter(t: TriggerFilter): TagFilter {
  switch (t.type) {
    case 'ALL':
      return matchAll;
    case 'TAG_LIST': {
      if (t.tags === undefined) throw new TypeError('a TAG_LIST trigger needs tags');
      const tags = new Set(t.tags);
      return (tag) => tags.has(tag);
    }
    case 'TAG_REG_EXP': {
      if (t.expression === undefined) throw new TypeError('a TAG_REG_EXP trigger needs an expression');
      const pattern = compileExpression(t.expression);
      // testExact anchors at both ends of the input, so `release-v.*` cannot
      // fire for `xrelease-v1`, and `a|b` cannot fire for `ab`.
      return (tag) => pattern.testExact(tag);
    }
  }
}

// Only expressions are worth caching: ALL needs nothing and a list of at most
// ten tags is searched faster than a cache key could be built from it.
const expressionFilters = new BoundedCache<string, TagFilter>(1000);

export function matchTrigger(t: TriggerFilter, tag: string): boolean {
  switch (t.type) {
    case 'ALL':
      return true;
    case 'TAG_LIST':
      if (t.tags === undefined) throw new TypeError('a TAG_LIST trigger needs tags');
      return t.tags.includes(tag);
    case 'TAG_REG_EXP': {
      const expression = t.expression;
      if (expression === undefined) throw new TypeError('a TAG_REG_EXP trigger needs an expression');
      return expressionFilters.getOrCreate(expression, () => compileTagFilter(t))(tag);
    }
  }
}
