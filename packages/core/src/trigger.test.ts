import { describe, expect, it } from 'vitest';
import { toJSONSchema, type z } from 'zod';
import {
  describeTriggerFilter,
  type Trigger,
  type TriggerInput,
  toPublicTrigger,
  triggerInputSchema,
  triggerSchema,
} from './trigger.js';

const base = { name: 'redeploy', url: 'https://hooks.example.com/x', type: 'ALL' } as const;

function issues(body: unknown): Array<{ path: string; message: string }> {
  const result = triggerInputSchema.safeParse(body);
  if (result.success) return [];
  return result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
}

function expectIssue(body: unknown, path: string, message: RegExp): void {
  expect(issues(body)).toContainEqual({ path, message: expect.stringMatching(message) });
}

describe('triggerInputSchema: the contract example', () => {
  it('accepts each type and defaults enabled to true', () => {
    expect(triggerInputSchema.parse(base)).toEqual({ ...base, enabled: true });
    expect(triggerInputSchema.parse({ ...base, type: 'TAG_LIST', tags: ['v1', 'latest'] })).toMatchObject({
      tags: ['v1', 'latest'],
    });
    expect(
      triggerInputSchema.parse({ ...base, type: 'TAG_REG_EXP', expression: 'release-v.*' }),
    ).toMatchObject({
      expression: 'release-v.*',
    });
  });

  it('accepts every optional field', () => {
    const body = {
      ...base,
      type: 'TAG_LIST',
      tags: ['v1', 'latest'],
      enabled: false,
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      headers: { 'X-Env': 'prod', Authorization: 'Bearer abc' },
    };
    expect(triggerInputSchema.parse(body)).toEqual(body);
  });

  it('leaves absent optional fields absent (not undefined)', () => {
    const parsed = triggerInputSchema.parse(base);
    expect(Object.keys(parsed).sort()).toEqual(['enabled', 'name', 'type', 'url']);
  });
});

describe('triggerInputSchema: rules', () => {
  it('rejects unknown keys and names them', () => {
    expectIssue({ ...base, tag: 'v1' }, '', /unknown field tag/);
  });

  it.each([
    ['', /1 to 64/],
    ['x'.repeat(65), /1 to 64/],
    ['a\nb', /control characters/],
    ['   ', /name must not be blank/],
    [42, /name must be a string/],
  ])('name %j', (name, message) => {
    expectIssue({ ...base, name }, 'name', message);
  });

  it('accepts a 64-character name', () => {
    expect(issues({ ...base, name: 'x'.repeat(64) })).toEqual([]);
  });

  it.each([
    ['https://hooks.example.com:8443/x', /https URLs must use port 443/],
    ['http://hooks.example.com:22/x', /http URLs must use port 80/],
    ['https://u:p@hooks.example.com/', /user-info/],
    ['ftp://hooks.example.com/', /http or https/],
  ])('url %s', (url, message) => {
    expectIssue({ ...base, url }, 'url', message);
  });

  it('requires the fields every trigger has', () => {
    const found = issues({});
    expect(found.map((issue) => issue.path)).toEqual(expect.arrayContaining(['name', 'url', 'type']));
  });

  it('names the allowed types', () => {
    expectIssue({ ...base, type: 'REGEX' }, 'type', /ALL, TAG_LIST, TAG_REG_EXP/);
  });

  it('reports an unknown type alone, not which fields it would allow', () => {
    expect(issues({ ...base, type: 'REGEX', tags: ['v1'], expression: 'v.*' }).map((i) => i.path)).toEqual([
      'type',
    ]);
  });

  describe('tags', () => {
    const tagList = (tags: unknown) => ({ ...base, type: 'TAG_LIST', tags });
    const ten = Array.from({ length: 10 }, (_, i) => `v${i}`);

    it('accepts 1 and 10 tags', () => {
      expect(issues(tagList(['v1']))).toEqual([]);
      expect(issues(tagList(ten))).toEqual([]);
    });

    it('refuses 11 tags, no tags, and a missing list', () => {
      expectIssue(tagList([...ten, 'v10']), 'tags', /1 to 10 tags/);
      expectIssue(tagList([]), 'tags', /1 to 10 tags/);
      expectIssue({ ...base, type: 'TAG_LIST' }, 'tags', /required when type is TAG_LIST/);
    });

    it('refuses duplicates, pointing at the second one', () => {
      expectIssue(tagList(['v1', 'v2', 'v1']), 'tags.2', /"v1" is listed twice/);
    });

    it('refuses invalid tags', () => {
      expectIssue(tagList(['ok', '-bad']), 'tags.1', /tag must be/);
    });

    it.each(['ALL', 'TAG_REG_EXP'])('are forbidden for %s', (type) => {
      expectIssue(
        { ...base, type, tags: ['v1'], expression: 'x' },
        'tags',
        /only allowed when type is TAG_LIST/,
      );
    });
  });

  describe('expression', () => {
    const regExp = (expression: unknown) => ({ ...base, type: 'TAG_REG_EXP', expression });

    it('is required for TAG_REG_EXP', () => {
      expectIssue({ ...base, type: 'TAG_REG_EXP' }, 'expression', /required when type is TAG_REG_EXP/);
    });

    it.each(['ALL', 'TAG_LIST'])('is forbidden for %s', (type) => {
      expectIssue({ ...base, type, tags: ['v1'], expression: 'x' }, 'expression', /only allowed/);
    });

    it.each([
      ['', /must not be empty/],
      ['x'.repeat(257), /at most 256/],
      ['(?=v)v.*', /look-ahead/],
      ['(?<!x)v', /look-behind/],
      ['(a)\\1', /back-references/],
      ['[', /not a valid RE2 regular expression: missing closing \]/],
    ])('refuses %j', (expression, message) => {
      expectIssue(regExp(expression), 'expression', message);
    });

    it('accepts 256 characters', () => {
      expect(issues(regExp('x'.repeat(256)))).toEqual([]);
    });
  });

  describe('secret', () => {
    it.each([
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'whsec_YQ==',
      'whsec_YWI',
      'plain-secret',
      '12345678',
      'x'.repeat(512),
    ])('accepts %s', (secret) => {
      expect(issues({ ...base, secret })).toEqual([]);
    });

    it.each([
      ['', /1 to 512/],
      ['x'.repeat(513), /1 to 512/],
      ['short', /at least 8 characters/],
      ['whsec_', /base64/],
      ['whsec_not base64!', /base64/],
      ['whsec_YQ=', /base64/],
      ['whsec_Y', /base64/],
    ])('refuses %j', (secret, message) => {
      expectIssue({ ...base, secret }, 'secret', message);
    });
  });

  describe('headers', () => {
    it('accepts up to 20 headers', () => {
      const headers = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`X-H${i}`, 'v']));
      expect(issues({ ...base, headers })).toEqual([]);
    });

    it('refuses 21 headers', () => {
      const headers = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-H${i}`, 'v']));
      expectIssue({ ...base, headers }, 'headers', /at most 20/);
    });

    it.each([
      'Host',
      'content-type',
      'Content-Length',
      'TRANSFER-ENCODING',
      'Connection',
      'Keep-Alive',
      'Upgrade',
      'TE',
      'Trailer',
      'Expect',
      'Proxy-Authorization',
      'proxy-connection',
      'webhook-id',
      'Webhook-Signature',
      'WEBHOOK-TIMESTAMP',
      'webhook-anything',
    ])('refuses %s', (name) => {
      expectIssue({ ...base, headers: { [name]: 'x' } }, `headers.${name}`, /cannot be set/);
    });

    it.each(['X Space', 'X:Colon', 'X(', '', 'Ünïcode'])('refuses the invalid name %j', (name) => {
      expectIssue({ ...base, headers: { [name]: 'x' } }, `headers.${name}`, /not a valid HTTP header name/);
    });

    it.each(['a\r\nX-Injected: 1', 'a\nb', 'a\rb', 'a\u0000b'])('refuses the value %j', (value) => {
      expectIssue({ ...base, headers: { 'X-A': value } }, 'headers.X-A', /CR, LF/);
    });

    it('accepts tabs and non-ASCII in values', () => {
      expect(issues({ ...base, headers: { 'X-A': 'a\tb ünïcode' } })).toEqual([]);
    });

    it('refuses a name given twice in different case', () => {
      expectIssue({ ...base, headers: { 'X-Env': 'a', 'x-env': 'b' } }, 'headers.x-env', /given twice/);
    });

    it('refuses non-string values', () => {
      expect(issues({ ...base, headers: { 'X-A': 1 } }).length).toBeGreaterThan(0);
    });
  });

  it('reports every problem of a body at once', () => {
    const found = issues({ name: '', url: 'https://h:8443', type: 'TAG_LIST', secret: 'short' });
    expect(found.map((issue) => issue.path).sort()).toEqual(['name', 'secret', 'tags', 'url']);
  });
});

describe('triggerInputSchema as JSON Schema (the OpenAPI document)', () => {
  it('converts, and carries the rules zod cannot express as descriptions', () => {
    const schema = toJSONSchema(triggerInputSchema, { io: 'input', unrepresentable: 'any' }) as {
      properties: Record<string, { description?: string }>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(schema.required).toEqual(['name', 'url', 'type']);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties['url']?.description).toMatch(/https port 443 only/);
    expect(schema.properties['expression']?.description).toMatch(/whole tag/);
  });
});

describe('toPublicTrigger', () => {
  const trigger: Trigger = {
    id: 't1',
    namespace: 'ns',
    repository: 'app',
    name: 'redeploy',
    url: 'https://hooks.example.com/x',
    type: 'ALL',
    enabled: true,
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    createdAt: 1,
    updatedAt: 2,
  };

  it('never reveals the secret', () => {
    const shown = toPublicTrigger(trigger);
    expect(shown.secret).toBe('***');
    expect(JSON.stringify(shown)).not.toContain('MfKQ9r8G');
    expect({ ...shown, secret: trigger.secret }).toEqual(trigger);
  });

  it('omits the secret when there is none', () => {
    const { secret: _secret, ...withoutSecret } = trigger;
    expect(toPublicTrigger(withoutSecret)).toEqual(withoutSecret);
    expect('secret' in toPublicTrigger(withoutSecret)).toBe(false);
  });

  it('matches the stored-trigger schema', () => {
    expect(triggerSchema.parse(trigger)).toEqual(trigger);
  });
});

describe('describeTriggerFilter', () => {
  it.each([
    [{ type: 'ALL' as const }, ''],
    [{ type: 'TAG_LIST' as const, tags: ['v1', 'latest'] }, 'v1,latest'],
    [{ type: 'TAG_REG_EXP' as const, expression: 'release-v.*' }, 'release-v.*'],
  ])('%j → %j', (filter, described) => {
    expect(describeTriggerFilter(filter)).toBe(described);
  });
});

// Compile-time: the schemas produce what the hand-written types promise.
type Assignable<A, B> = [A] extends [B] ? true : false;
const inputFitsTrigger: Assignable<
  TriggerInput,
  Omit<Trigger, 'id' | 'namespace' | 'repository' | 'createdAt' | 'updatedAt'>
> = true;
const storedIsTrigger: Assignable<z.infer<typeof triggerSchema>, Trigger> = true;
const triggerIsStored: Assignable<Trigger, z.infer<typeof triggerSchema>> = true;
void [inputFitsTrigger, storedIsTrigger, triggerIsStored];
