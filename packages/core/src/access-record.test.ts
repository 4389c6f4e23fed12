import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  type AccessRecord,
  accessRecordSchema,
  MAX_RESPONSE_BODY_BYTES,
  recordStatusSchema,
  redactHeaders,
  truncateUtf8,
} from './access-record.js';

const utf8Length = (s: string) => Buffer.byteLength(s, 'utf8');

describe('truncateUtf8', () => {
  it('keeps short strings whole', () => {
    expect(truncateUtf8('hello', 5)).toBe('hello');
    expect(truncateUtf8('ü', 2)).toBe('ü');
  });

  it('cuts at a byte count, never inside a character', () => {
    expect(truncateUtf8('hello', 3)).toBe('hel');
    expect(truncateUtf8('aü', 2)).toBe('a'); // ü takes two bytes
    expect(truncateUtf8('a€', 3)).toBe('a'); // € takes three
    expect(truncateUtf8('a😀', 4)).toBe('a'); // a surrogate pair takes four
    expect(truncateUtf8('a😀', 5)).toBe('a😀');
    expect(truncateUtf8('abc', 0)).toBe('');
    expect(truncateUtf8('abc', -1)).toBe('');
  });

  it('keeps 4 KiB of a large body', () => {
    const body = 'x'.repeat(1_000_000);
    expect(truncateUtf8(body, MAX_RESPONSE_BODY_BYTES)).toHaveLength(MAX_RESPONSE_BODY_BYTES);
  });

  it('returns the longest prefix that fits, for any text', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.integer({ min: 0, max: 400 }),
        (s, max) => {
          const cut = truncateUtf8(s, max);
          expect(s.startsWith(cut)).toBe(true);
          expect(utf8Length(cut)).toBeLessThanOrEqual(Math.max(max, 0));
          if (cut.length < s.length) {
            const next = String.fromCodePoint(s.codePointAt(cut.length)!);
            expect(utf8Length(cut) + utf8Length(next)).toBeGreaterThan(max);
          }
        },
      ),
    );
  });
});

describe('redactHeaders', () => {
  it('hides secrets and keeps the rest, names as written', () => {
    expect(
      redactHeaders({
        'webhook-signature': 'v1,abc',
        'webhook-id': 'msg_1',
        Authorization: 'Bearer x',
        'Proxy-Authorization': 'Basic x',
        Cookie: 'a=b',
        'Set-Cookie': 'a=b',
        'X-Api-Key': 'k',
        'X-Auth-Token': 't',
        'X-Client-Secret': 's',
        'Content-Type': 'application/json',
        'X-Env': 'prod',
      }),
    ).toEqual({
      'webhook-signature': '***',
      'webhook-id': 'msg_1',
      Authorization: '***',
      'Proxy-Authorization': '***',
      Cookie: '***',
      'Set-Cookie': '***',
      'X-Api-Key': '***',
      'X-Auth-Token': '***',
      'X-Client-Secret': '***',
      'Content-Type': 'application/json',
      'X-Env': 'prod',
    });
  });

  it('does not change its argument', () => {
    const headers = { authorization: 'Bearer x' };
    redactHeaders(headers);
    expect(headers).toEqual({ authorization: 'Bearer x' });
  });
});

describe('accessRecordSchema', () => {
  const record: AccessRecord = {
    id: 'r1',
    triggerId: 't1',
    triggerName: 'redeploy',
    triggerUrl: 'https://hooks.example.com/x?secret=***',
    triggerType: 'TAG_REG_EXP',
    triggerTag: 'release-v.*',
    eventId: 'e1',
    deliveryId: 'msg_abc',
    namespace: 'ns',
    repository: 'app',
    tag: 'release-v1',
    digest: `sha256:${'a'.repeat(64)}`,
    status: 'retrying',
    statusCode: '503',
    attempt: 1,
    requestTime: 1_700_000_000_000,
    durationMs: 12.5,
    requestHeaders: { 'content-type': 'application/json' },
    requestBody: '{}',
    responseHeaders: {},
    responseBody: 'busy',
  };

  it('accepts a delivery record and an untriggered one', () => {
    expect(accessRecordSchema.parse(record)).toEqual(record);
    const untriggered: AccessRecord = {
      ...record,
      deliveryId: null,
      status: 'untriggered',
      statusCode: 'untriggered',
      attempt: 0,
      durationMs: 0,
      requestHeaders: {},
      requestBody: '',
      responseBody: '',
      note: 'tag does not match release-v.*',
    };
    expect(accessRecordSchema.parse(untriggered)).toEqual(untriggered);
  });

  it('refuses a record with a wrong status or a missing field', () => {
    expect(accessRecordSchema.safeParse({ ...record, status: 'pending' }).success).toBe(false);
    const { digest: _digest, ...withoutDigest } = record;
    expect(accessRecordSchema.safeParse(withoutDigest).success).toBe(false);
  });

  it('lists the five statuses of the contract', () => {
    expect(recordStatusSchema.options).toEqual([
      'untriggered',
      'succeeded',
      'retrying',
      'failed',
      'superseded',
    ]);
  });
});

// Compile-time: the schema and the interface describe the same record.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesInterface: Same<z.infer<typeof accessRecordSchema>, AccessRecord> = true;
void schemaMatchesInterface;
