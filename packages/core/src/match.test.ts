import fc from 'fast-check';
import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { checkExpression, compileTagFilter, matchTrigger, type TriggerFilter } from './match.js';

const tagArbitrary = fc.stringMatching(/^\w[\w.-]{0,40}$/);

describe('ALL', () => {
  it('fires for any tag', () => {
    fc.assert(
      fc.property(fc.string(), (tag) => {
        expect(matchTrigger({ type: 'ALL' }, tag)).toBe(true);
        expect(compileTagFilter({ type: 'ALL' })(tag)).toBe(true);
      }),
    );
  });
});

describe('TAG_LIST', () => {
  const filter: TriggerFilter = { type: 'TAG_LIST', tags: ['v1', 'latest'] };

  it.each([
    ['v1', true],
    ['latest', true],
    ['v2', false],
    ['V1', false],
    ['v1 ', false],
    ['', false],
    ['latest-1', false],
  ])('%j → %s', (tag, fires) => {
    expect(matchTrigger(filter, tag)).toBe(fires);
    expect(compileTagFilter(filter)(tag)).toBe(fires);
  });

  it('fires iff the tag is in the list', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(tagArbitrary, { minLength: 1, maxLength: 10 }),
        tagArbitrary,
        fc.nat(),
        fc.boolean(),
        (tags, other, index, pickFromList) => {
          const tag = pickFromList ? (tags[index % tags.length] ?? other) : other;
          const filter: TriggerFilter = { type: 'TAG_LIST', tags };
          expect(matchTrigger(filter, tag)).toBe(tags.includes(tag));
          expect(compileTagFilter(filter)(tag)).toBe(tags.includes(tag));
        },
      ),
    );
  });

  it('throws for a list-less filter: stored triggers are validated', () => {
    expect(() => compileTagFilter({ type: 'TAG_LIST' })).toThrow(/needs tags/);
  });
});

describe('TAG_REG_EXP', () => {
  const release: TriggerFilter = { type: 'TAG_REG_EXP', expression: 'release-v.*' };

  it.each([
    ['release-v1.2', true],
    ['release-v', true],
    ['release-v2', true],
    ['xrelease-v1', false],
    ['release-x', false],
    ['release', false],
    ['Release-v1', false],
    ['pre-release-v1', false],
  ])('release-v.* with %j → %s', (tag, fires) => {
    expect(matchTrigger(release, tag)).toBe(fires);
    expect(compileTagFilter(release)(tag)).toBe(fires);
  });

  it.each([
    ['v1|v2', 'v1', true],
    ['v1|v2', 'v1v2', false],
    ['v1|v2', 'xv2', false],
    ['^v\\d+$', 'v12', true],
    ['v\\d+', 'v12-rc', false],
    ['(?i)latest', 'LATEST', true],
    ['.*', '', true],
    ['[0-9]+\\.[0-9]+\\.[0-9]+', '1.2.3', true],
    ['[0-9]+\\.[0-9]+\\.[0-9]+', '1.2.3-rc1', false],
  ])('%s with %j → %s (the whole tag must match)', (expression, tag, fires) => {
    expect(matchTrigger({ type: 'TAG_REG_EXP', expression }, tag)).toBe(fires);
  });

  it('an escaped literal matches only that literal', () => {
    fc.assert(
      fc.property(tagArbitrary, tagArbitrary, tagArbitrary, (literal, other, affix) => {
        const filter: TriggerFilter = { type: 'TAG_REG_EXP', expression: RE2JS.quote(literal) };
        expect(matchTrigger(filter, literal)).toBe(true);
        expect(matchTrigger(filter, other)).toBe(other === literal);
        expect(matchTrigger(filter, literal + affix)).toBe(false);
        expect(matchTrigger(filter, affix + literal)).toBe(false);
      }),
    );
  });

  it('stays linear on the catastrophic pattern (a+)+$ against a 100 kB tag', () => {
    const filter: TriggerFilter = { type: 'TAG_REG_EXP', expression: '(a+)+$' };
    expect(checkExpression('(a+)+$')).toEqual({ ok: true });
    const started = performance.now();
    expect(matchTrigger(filter, `${'a'.repeat(100_000)}!`)).toBe(false);
    expect(matchTrigger(filter, 'a'.repeat(100_000))).toBe(true);
    expect(matchTrigger({ type: 'TAG_REG_EXP', expression: '(a|aa)+b' }, 'a'.repeat(100_000))).toBe(false);
    // Generous: a backtracking engine would not finish in the lifetime of the test run.
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('gives the same answer from the cache as from a fresh compile', () => {
    const filter: TriggerFilter = { type: 'TAG_REG_EXP', expression: 'v[0-9]+' };
    for (let i = 0; i < 3; i++) {
      expect(matchTrigger(filter, 'v10')).toBe(true);
      expect(matchTrigger(filter, 'v10a')).toBe(false);
    }
  });

  it('keeps working past the cache bound', () => {
    for (let i = 0; i < 1500; i++) {
      expect(matchTrigger({ type: 'TAG_REG_EXP', expression: `t${i}` }, `t${i}`)).toBe(true);
    }
    expect(matchTrigger({ type: 'TAG_REG_EXP', expression: 't0' }, 't0')).toBe(true);
  });

  it('throws for an expression-less filter: stored triggers are validated', () => {
    expect(() => matchTrigger({ type: 'TAG_REG_EXP' }, 'x')).toThrow(/needs an expression/);
  });
});

describe('checkExpression', () => {
  it.each(['release-v.*', 'v1|v2', '(?i)latest', '(?P<major>\\d+)\\.\\d+', '\\(?=', '[(?=]'])(
    'accepts %s',
    (e) => {
      expect(checkExpression(e)).toEqual({ ok: true });
    },
  );

  it.each([
    ['(?=x)', /look-ahead .* not supported: the expression must run in a linear-time \(RE2\) engine/],
    ['v(?!1)', /look-ahead/],
    ['(?<=x)y', /look-behind/],
    ['(?<!x)y', /look-behind/],
    ['(a)\\1', /back-references/],
    ['(?<n>a)\\k<n>', /back-references/],
    ['a**', /not a valid RE2 regular expression: invalid nested repetition operator/],
    ['(', /not a valid RE2 regular expression: missing closing \)/],
    ['a{1001}', /invalid repeat count/],
    ['((a{100}){100}){100}', /invalid repeat count/],
    ['', /must not be empty/],
    ['a'.repeat(257), /at most 256 characters/],
  ])('refuses %s', (expression, rule) => {
    const check = checkExpression(expression);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.rule).toMatch(rule);
  });
});
