import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkCaBundle } from './ca-bundle.js';

// Two public root certificates (Let's Encrypt's ISRG Root X1 and X2, as Node ships them).
const X1 = readFileSync(new URL('./fixtures/isrg-root-x1.pem', import.meta.url), 'utf8');
const X2 = readFileSync(new URL('./fixtures/isrg-root-x2.pem', import.meta.url), 'utf8');

describe('checkCaBundle', () => {
  it('counts the certificates of a bundle, whatever the line endings', () => {
    expect(checkCaBundle(X1)).toEqual({ ok: true, certificates: 1 });
    expect(checkCaBundle(`${X1}\n${X2}`)).toEqual({ ok: true, certificates: 2 });
    expect(checkCaBundle(`${X1}${X2}`.replaceAll('\n', '\r\n'))).toEqual({ ok: true, certificates: 2 });
  });

  it.each([
    ['empty', '', /no PEM CERTIFICATE block/],
    ['only blanks', ' \n\n', /no PEM CERTIFICATE block/],
    ['a comment line', `# my CA\n${X1}`, /text outside PEM blocks/],
    [
      'a private key',
      `${X1}-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----\n`,
      /block 2 is a PRIVATE KEY, not a CERTIFICATE/,
    ],
    [
      'mismatched labels',
      X1.replace('END CERTIFICATE', 'END CERTIFICATE REQUEST'),
      /begins CERTIFICATE but ends CERTIFICATE REQUEST/,
    ],
    ['a garbled certificate', X2.replace(/\n.{8}/, '\nAAAAAAAA'), /certificate 1 does not parse as X\.509/],
    [
      'a truncated second one',
      `${X1}${X2.slice(0, 200)}\n-----END CERTIFICATE-----\n`,
      /certificate 2 does not parse/,
    ],
    ['an unterminated block', `${X1}-----BEGIN CERTIFICATE-----\nMIIB\n`, /text outside PEM blocks/],
  ])('%s: refused, naming the problem', (_what, pem, problem) => {
    const check = checkCaBundle(pem);
    expect(check.ok).toBe(false);
    expect(check.ok ? '' : check.problem).toMatch(problem);
  });

  it('quotes at most 40 characters of a label', () => {
    const label = 'X'.repeat(500);
    const check = checkCaBundle(`-----BEGIN ${label}-----\nAA\n-----END ${label}-----\n`);
    expect(check.ok ? '' : check.problem.length).toBeLessThan(120);
  });
});
