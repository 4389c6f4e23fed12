import fc from 'fast-check';
import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import {
  digestSchema,
  isFullNameWithinLimit,
  namespaceNameSchema,
  PATH_COMPONENT_PATTERN,
  REFERENCE_PATH_COMPONENT_GRAMMAR,
  repositoryNameSchema,
  tagSchema,
} from './names.js';

const ok = (schema: { safeParse: (v: unknown) => { success: boolean } }, value: unknown) =>
  schema.safeParse(value).success;

describe('namespaceNameSchema', () => {
  it.each(['a', 'library', 'my-team', 'my--team', 'a.b', 'a_b', 'a__b', 'a1-b2.c3_d4__e5', 'x'.repeat(255)])(
    'accepts %s',
    (name) => {
      expect(ok(namespaceNameSchema, name)).toBe(true);
    },
  );

  it.each([
    ['', 'empty'],
    ['A', 'uppercase'],
    ['-a', 'leading separator'],
    ['a-', 'trailing separator'],
    ['a..b', 'double dot'],
    ['a___b', 'triple underscore'],
    ['a._b', 'mixed separators'],
    ['a/b', 'a slash (namespaces are one component)'],
    ['a b', 'a space'],
    ['x'.repeat(256), 'over 255 characters'],
  ])('refuses %j (%s)', (name) => {
    expect(ok(namespaceNameSchema, name)).toBe(false);
  });

  it('agrees with the distribution reference grammar on any string of name characters', () => {
    const reference = RE2JS.compile(REFERENCE_PATH_COMPONENT_GRAMMAR);
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', 'b', '0', '.', '_', '-', 'A', '/'), maxLength: 30 }),
        (s) => {
          expect(PATH_COMPONENT_PATTERN.test(s)).toBe(reference.testExact(s));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('does not backtrack exponentially on a near-miss (the reference grammar would in V8)', () => {
    const started = performance.now();
    expect(ok(namespaceNameSchema, `${'a'.repeat(250)}!`)).toBe(false);
    expect(ok(namespaceNameSchema, `${'a-'.repeat(120)}!`)).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('repositoryNameSchema', () => {
  it.each(['app', 'team/app', 'a/b/c', 'my-app/v2.x__y'])('accepts %s', (name) => {
    expect(ok(repositoryNameSchema, name)).toBe(true);
  });

  it.each(['', '/app', 'app/', 'a//b', 'App', 'a/B', 'a/-b', 'x'.repeat(254)])('refuses %j', (name) => {
    expect(ok(repositoryNameSchema, name)).toBe(false);
  });

  it('limits namespace/repository to 255 characters together', () => {
    expect(isFullNameWithinLimit('n'.repeat(100), 'r'.repeat(154))).toBe(true);
    expect(isFullNameWithinLimit('n'.repeat(100), 'r'.repeat(155))).toBe(false);
  });
});

describe('tagSchema', () => {
  it.each(['latest', 'v1', 'release-v1.2', '_x', '1.0.0-rc.1', 'A'.repeat(128)])('accepts %s', (tag) => {
    expect(ok(tagSchema, tag)).toBe(true);
  });

  it.each(['', '.x', '-x', 'a b', 'a/b', 'a:b', 'é', 'A'.repeat(129)])('refuses %j', (tag) => {
    expect(ok(tagSchema, tag)).toBe(false);
  });
});

describe('digestSchema', () => {
  const hex64 = 'a'.repeat(64);
  it.each([
    `sha256:${hex64}`,
    `sha512:${'0'.repeat(128)}`,
    'multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8',
    'sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564',
  ])('accepts %s', (digest) => {
    expect(ok(digestSchema, digest)).toBe(true);
  });

  it.each([
    ['sha256:abc', 'short sha256'],
    [`sha256:${'A'.repeat(64)}`, 'uppercase sha256'],
    [`sha256:${'a'.repeat(65)}`, 'long sha256'],
    [`sha512:${hex64}`, 'short sha512'],
    [hex64, 'no algorithm'],
    [`SHA256:${hex64}`, 'uppercase algorithm'],
    [`sha256:${hex64}:x`, 'two colons'],
    ['sha256:', 'empty encoded part'],
    ['sha256:ab/cd', 'slash in encoded part'],
  ])('refuses %s (%s)', (digest) => {
    expect(ok(digestSchema, digest)).toBe(false);
  });

  it('treats an algorithm named like an Object property as unregistered', () => {
    expect(ok(digestSchema, 'constructor:abc')).toBe(true);
  });
});
