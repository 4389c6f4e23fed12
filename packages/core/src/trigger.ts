/**
 * The trigger model: what a user writes (TriggerInput), what is stored
 * (Trigger) and what is shown back (toPublicTrigger, which hides the secret).
 */
import { z } from 'zod';
import { checkCustomHeaders, HEADER_COUNT_RULE, MAX_CUSTOM_HEADERS } from './header-rules.js';
import { checkExpression, MAX_EXPRESSION_LENGTH } from './match.js';
import { tagSchema } from './names.js';
import { isReservedKey, quoteInput, quoteNames, RESERVED_KEY_RULE } from './quote.js';
import { type TriggerOptionFields, triggerOptionShape } from './trigger-options.js';
import { checkTriggerUrl, REDACTED } from './url-rules.js';
import { checkWebhookSecret } from './webhook-secret.js';

export const triggerTypeSchema = z.enum(['ALL', 'TAG_LIST', 'TAG_REG_EXP'], {
  error: 'type must be one of ALL, TAG_LIST, TAG_REG_EXP',
});
export type TriggerType = z.infer<typeof triggerTypeSchema>;

export const MAX_TRIGGER_NAME_LENGTH = 64;
export const MAX_TRIGGER_TAGS = 10;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this finds
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

const triggerNameSchema = z
  .string({ error: 'name must be a string' })
  .min(1, `name must be 1 to ${MAX_TRIGGER_NAME_LENGTH} characters`)
  .max(MAX_TRIGGER_NAME_LENGTH, `name must be 1 to ${MAX_TRIGGER_NAME_LENGTH} characters`)
  .refine((name) => !CONTROL_CHARACTERS.test(name), 'name must not contain control characters')
  // An empty name already broke the length rule: one issue per problem.
  .refine((name) => name === '' || name.trim() !== '', 'name must not be blank');

// The descriptions end up in the OpenAPI document (z.toJSONSchema), where the
// custom checks themselves cannot be expressed.
const triggerUrlSchema = z
  .string({ error: 'url must be a string' })
  .superRefine((url, ctx) => {
    const check = checkTriggerUrl(url);
    if (!check.ok) ctx.addIssue({ code: 'custom', message: check.rule });
  })
  .meta({
    description:
      'http or https, no user-info; http ports 80, 21, 70, 210, 280, 443, 488, 591, 777 or 1025-65535; https port 443 only',
  });

const triggerTagsSchema = z
  .array(tagSchema, { error: 'tags must be an array of tags' })
  .min(1, `tags must hold 1 to ${MAX_TRIGGER_TAGS} tags`)
  .max(MAX_TRIGGER_TAGS, `tags must hold 1 to ${MAX_TRIGGER_TAGS} tags`)
  .superRefine((tags, ctx) => {
    const seen = new Set<string>();
    tags.forEach((tag, index) => {
      if (seen.has(tag))
        ctx.addIssue({ code: 'custom', path: [index], message: `tag ${quoteInput(tag)} is listed twice` });
      seen.add(tag);
    });
  });

const triggerExpressionSchema = z
  .string({ error: 'expression must be a string' })
  .meta({
    description: `RE2 syntax, at most ${MAX_EXPRESSION_LENGTH} characters, must match the whole tag; no look-around or back-references`,
  })
  .superRefine((expr, ctx) => {
    const check = checkExpression(expr);
    if (!check.ok) ctx.addIssue({ code: 'custom', message: check.rule });
  });

const triggerSecretSchema = z
  .string({ error: 'secret must be a string' })
  .meta({
    description:
      'signs deliveries (Standard Webhooks): whsec_ + base64 of the key, or any string of at least 8 characters; never shown again',
  })
  .superRefine((secret, ctx) => {
    const check = checkWebhookSecret(secret);
    if (!check.ok) ctx.addIssue({ code: 'custom', message: check.rule });
  });

const headerRecordSchema = z
  .record(z.string(), z.string({ error: 'header values must be strings' }), {
    error: 'headers must be an object of header names to string values',
  })
  .meta({
    description:
      'at most 20 extra request headers; not Host, Content-Type, Content-Length, Transfer-Encoding, Connection, Keep-Alive, Upgrade, TE, Trailer, Expect, Proxy-* or webhook-*',
  });

/**
 * The limits that make every other header rule moot, before zod looks at a single entry:
 * past 20 names the answer is that one rule, not an issue per name or value. And a
 * `__proto__` name, which a record would drop without a word, is refused by name.
 */
function checkHeaderSet(value: unknown, ctx: z.RefinementCtx): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const names = Object.keys(value);
  if (names.length > MAX_CUSTOM_HEADERS) {
    ctx.addIssue({ code: 'custom', message: HEADER_COUNT_RULE });
    return z.NEVER;
  }
  const reserved = names.filter(isReservedKey);
  for (const name of reserved) ctx.addIssue({ code: 'custom', path: [name], message: RESERVED_KEY_RULE });
  return reserved.length > 0 ? z.NEVER : value;
}

const triggerHeadersSchema = z.preprocess(checkHeaderSet, headerRecordSchema).superRefine((headers, ctx) => {
  for (const issue of checkCustomHeaders(headers)) {
    ctx.addIssue({
      code: 'custom',
      path: issue.name === undefined ? [] : [issue.name],
      message: issue.rule,
    });
  }
});

const triggerInputShape = {
  name: triggerNameSchema,
  url: triggerUrlSchema,
  type: triggerTypeSchema,
  // exactOptional: an absent field stays absent, which is what the stored
  // Trigger (exactOptionalPropertyTypes) expects.
  tags: triggerTagsSchema.exactOptional(),
  expression: triggerExpressionSchema.exactOptional(),
  enabled: z.boolean({ error: 'enabled must be true or false' }).default(true),
  secret: triggerSecretSchema.exactOptional(),
  headers: triggerHeadersSchema.exactOptional(),
  ...triggerOptionShape,
};

const unknownFields = (allowed: string[]) => (issue: z.core.$ZodRawIssue) =>
  issue.code === 'unrecognized_keys'
    ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${quoteNames(issue.keys)}; a trigger has ${allowed.join(', ')}`
    : undefined;

// Runs even when a field failed, so one answer lists every problem; it only
// looks at which fields are present, never trusts their values.
function checkFieldsOfType(
  input: { type: unknown; tags?: unknown; expression?: unknown },
  ctx: z.RefinementCtx,
) {
  const { type } = input;
  // An unknown type is reported on its own; which fields it allows is moot.
  if (!triggerTypeSchema.options.includes(type as TriggerType)) return;
  if (type === 'TAG_LIST' && input.tags === undefined) {
    ctx.addIssue({ code: 'custom', path: ['tags'], message: 'tags are required when type is TAG_LIST' });
  }
  if (type !== 'TAG_LIST' && input.tags !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['tags'],
      message: 'tags are only allowed when type is TAG_LIST',
    });
  }
  if (type === 'TAG_REG_EXP' && input.expression === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['expression'],
      message: `expression is required when type is TAG_REG_EXP (at most ${MAX_EXPRESSION_LENGTH} characters)`,
    });
  }
  if (type !== 'TAG_REG_EXP' && input.expression !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['expression'],
      message: 'expression is only allowed when type is TAG_REG_EXP',
    });
  }
}

/** The body of POST trigger. Every issue's message names the rule that failed. */
export const triggerInputSchema = z
  .strictObject(triggerInputShape, { error: unknownFields(Object.keys(triggerInputShape)) })
  .superRefine(checkFieldsOfType);

/**
 * What a read shows that a write does not set. A PUT takes them back, so a trigger read,
 * edited and sent back is a valid PUT: the ids must be the trigger's own, the rest the
 * server keeps as it has them.
 */
const readOnlyShape = {
  id: z.string({ error: 'id must be a string' }).exactOptional(),
  namespace: z.string({ error: 'namespace must be a string' }).exactOptional(),
  repository: z.string({ error: 'repository must be a string' }).exactOptional(),
  createdAt: z.number({ error: 'createdAt must be a number' }).exactOptional(),
  updatedAt: z.number({ error: 'updatedAt must be a number' }).exactOptional(),
  disabledReason: z.string({ error: 'disabledReason must be a string' }).exactOptional(),
};
export const TRIGGER_READ_ONLY_FIELDS = Object.keys(readOnlyShape) as Array<keyof typeof readOnlyShape>;

/** The body of PUT trigger: the POST body, and optionally the read-only fields of a read. */
export const triggerReplacementSchema = z
  .strictObject(
    { ...triggerInputShape, ...readOnlyShape },
    { error: unknownFields([...Object.keys(triggerInputShape), ...TRIGGER_READ_ONLY_FIELDS]) },
  )
  .superRefine(checkFieldsOfType);

export type TriggerInput = z.infer<typeof triggerInputSchema>;

export interface Trigger extends TriggerOptionFields {
  id: string;
  namespace: string;
  repository: string;
  name: string;
  url: string;
  type: TriggerType;
  tags?: string[];
  expression?: string;
  enabled: boolean;
  secret?: string;
  headers?: Record<string, string>;
  createdAt: number;
  updatedAt: number;
  disabledReason?: string;
}

/**
 * The stored shape, for readers that get a trigger back from storage. It
 * checks structure only: the write rules above already ran when it was saved.
 */
export const triggerSchema = z.object({
  id: z.string().min(1),
  namespace: z.string().min(1),
  repository: z.string().min(1),
  name: z.string(),
  url: z.string(),
  type: triggerTypeSchema,
  tags: z.array(z.string()).exactOptional(),
  expression: z.string().exactOptional(),
  enabled: z.boolean(),
  secret: z.string().exactOptional(),
  headers: z.record(z.string(), z.string()).exactOptional(),
  ...triggerOptionShape,
  createdAt: z.number().int().nonnegative(),
  updatedAt: z.number().int().nonnegative(),
  disabledReason: z.string().exactOptional(),
});

/** What reads show: the secret and every custom header value masked (both are write-only). */
export type PublicTrigger = Omit<Trigger, 'secret' | 'headers'> & {
  secret?: typeof REDACTED;
  headers?: Record<string, typeof REDACTED>;
};

export function toPublicTrigger(t: Trigger): PublicTrigger {
  const { secret, headers, ...rest } = t;
  return {
    ...rest,
    ...(secret === undefined ? {} : { secret: REDACTED }),
    ...(headers === undefined
      ? {}
      : { headers: Object.fromEntries(Object.keys(headers).map((name) => [name, REDACTED])) }),
  };
}

export interface MaskedValueIssue {
  path: string[];
  message: string;
}

/**
 * A write body with the masked values of a read put back: a secret or a header value sent
 * as "***" keeps the stored one (a header by its name, ignoring case), so a trigger read,
 * edited and sent back keeps what it could not show. A header "***" with no stored value
 * (always so for a new trigger) is an issue: the literal would otherwise be sent to receivers.
 */
export function unmaskTriggerBody(
  body: Record<string, unknown>,
  stored: Pick<Trigger, 'secret' | 'headers'> | undefined,
): { body: Record<string, unknown>; issues: MaskedValueIssue[] } {
  const result = { ...body };
  const issues: MaskedValueIssue[] = [];
  if (stored && result.secret === REDACTED) {
    if (stored.secret === undefined) delete result.secret;
    else result.secret = stored.secret;
  }
  const headers = result.headers;
  if (typeof headers === 'object' && headers !== null && !Array.isArray(headers)) {
    const kept = new Map(
      Object.entries(stored?.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
    );
    const resolved: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (value !== REDACTED) {
        resolved[name] = value;
        continue;
      }
      const storedValue = kept.get(name.toLowerCase());
      if (storedValue === undefined) {
        issues.push({
          path: ['headers', name],
          message: `header ${quoteInput(name)} has no stored value for "${REDACTED}" to keep: send its value`,
        });
      } else resolved[name] = storedValue;
    }
    result.headers = resolved;
  }
  return { body: result, issues };
}

/** The access-log field `triggerTag`: what the trigger filters on. */
export function describeTriggerFilter(t: Pick<Trigger, 'type' | 'tags' | 'expression'>): string {
  switch (t.type) {
    case 'ALL':
      return '';
    case 'TAG_LIST':
      return (t.tags ?? []).join(',');
    case 'TAG_REG_EXP':
      return t.expression ?? '';
  }
}
