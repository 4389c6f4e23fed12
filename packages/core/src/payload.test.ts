import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PATH_COMPONENT_PATTERN } from './names.js';
import {
  buildAcrPayload,
  formatPayloadTime,
  isValidTimeZone,
  NO_CERTIFIED,
  type PushInfo,
  type RepositoryInfo,
} from './payload.js';

// The contract's example, with region 'local'.
const CONTRACT_PAYLOAD =
  '{"push_data":{"digest":"sha256:457f4aa83fc9a6663ab9d1b0a6e2dce25a12a943ed5bf2c1747c58d48bbb4917","pushed_at":"2016-11-29 12:25:46","tag":"latest"},' +
  '"repository":{"date_created":"2016-10-28 21:31:42","name":"repoTest","namespace":"namespace","region":"local",' +
  '"repo_authentication_type":"NO_CERTIFIED","repo_full_name":"namespace/repoTest","repo_origin_type":"NO_CERTIFIED","repo_type":"PUBLIC"}}';

const DIGEST = 'sha256:457f4aa83fc9a6663ab9d1b0a6e2dce25a12a943ed5bf2c1747c58d48bbb4917';

function contractInputs(pushedAt: number, createdAt: number): [PushInfo, RepositoryInfo] {
  return [
    { digest: DIGEST, pushedAt, tag: 'latest' },
    {
      namespace: 'namespace',
      name: 'repoTest',
      region: 'local',
      createdAt,
      repoType: 'PUBLIC',
      authenticationType: NO_CERTIFIED,
      originType: NO_CERTIFIED,
    },
  ];
}

describe('buildAcrPayload', () => {
  it('produces the exact bytes of the contract example in UTC', () => {
    const [push, repo] = contractInputs(
      Date.UTC(2016, 10, 29, 12, 25, 46),
      Date.UTC(2016, 9, 28, 21, 31, 42),
    );
    expect(buildAcrPayload(push, repo, 'UTC')).toBe(CONTRACT_PAYLOAD);
  });

  it('produces the exact bytes of the contract example in Asia/Shanghai (UTC+8)', () => {
    const [push, repo] = contractInputs(Date.UTC(2016, 10, 29, 4, 25, 46), Date.UTC(2016, 9, 28, 13, 31, 42));
    expect(buildAcrPayload(push, repo, 'Asia/Shanghai')).toBe(CONTRACT_PAYLOAD);
  });

  it('writes the same instant differently per zone', () => {
    const [push, repo] = contractInputs(
      Date.UTC(2016, 10, 29, 12, 25, 46),
      Date.UTC(2016, 9, 28, 21, 31, 42),
    );
    const shanghai = JSON.parse(buildAcrPayload(push, repo, 'Asia/Shanghai'));
    expect(shanghai.push_data.pushed_at).toBe('2016-11-29 20:25:46');
    expect(shanghai.repository.date_created).toBe('2016-10-29 05:31:42');
  });

  it('escapes like JSON.stringify and nothing else', () => {
    const [push, repo] = contractInputs(0, 0);
    const body = buildAcrPayload({ ...push, tag: 'a"b\\c' }, { ...repo, region: 'ü/</script>' }, 'UTC');
    expect(body).toContain('"tag":"a\\"b\\\\c"');
    expect(body).toContain('"region":"ü/</script>"');
  });

  it('round-trips random valid names, tags, digests and times through JSON.parse', () => {
    const component = fc.stringMatching(PATH_COMPONENT_PATTERN, { maxLength: 30 });
    const arbitraries = {
      namespace: component,
      name: fc.array(component, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/')),
      tag: fc.stringMatching(/^\w[\w.-]{0,127}$/),
      digest: fc
        .uint8Array({ minLength: 32, maxLength: 32 })
        .map((bytes) => `sha256:${Buffer.from(bytes).toString('hex')}`),
      // 2000-01-01 to 2100-01-01, whole seconds: the payload has no milliseconds.
      pushedAtSec: fc.integer({ min: 946_684_800, max: 4_102_444_800 }),
      createdAtSec: fc.integer({ min: 946_684_800, max: 4_102_444_800 }),
      region: fc.constantFrom('local', 'cn-hangzhou', 'eu-central-1'),
      repoType: fc.constantFrom('PUBLIC' as const, 'PRIVATE' as const),
    };
    fc.assert(
      fc.property(fc.record(arbitraries), (input) => {
        const body = buildAcrPayload(
          { digest: input.digest, pushedAt: input.pushedAtSec * 1000 + 999, tag: input.tag },
          {
            namespace: input.namespace,
            name: input.name,
            region: input.region,
            createdAt: input.createdAtSec * 1000,
            repoType: input.repoType,
            authenticationType: NO_CERTIFIED,
            originType: NO_CERTIFIED,
          },
          'UTC',
        );
        const parsed = JSON.parse(body);
        expect(parsed).toEqual({
          push_data: { digest: input.digest, pushed_at: expect.any(String), tag: input.tag },
          repository: {
            date_created: expect.any(String),
            name: input.name,
            namespace: input.namespace,
            region: input.region,
            repo_authentication_type: NO_CERTIFIED,
            repo_full_name: `${input.namespace}/${input.name}`,
            repo_origin_type: NO_CERTIFIED,
            repo_type: input.repoType,
          },
        });
        const utcMs = (stamp: string) => Date.parse(`${stamp.replace(' ', 'T')}Z`);
        expect(utcMs(parsed.push_data.pushed_at)).toBe(input.pushedAtSec * 1000);
        expect(utcMs(parsed.repository.date_created)).toBe(input.createdAtSec * 1000);
        expect(Object.keys(parsed)).toEqual(['push_data', 'repository']);
        expect(Object.keys(parsed.push_data)).toEqual(['digest', 'pushed_at', 'tag']);
        expect(Object.keys(parsed.repository)).toEqual([
          'date_created',
          'name',
          'namespace',
          'region',
          'repo_authentication_type',
          'repo_full_name',
          'repo_origin_type',
          'repo_type',
        ]);
        expect(JSON.stringify(parsed)).toBe(body);
      }),
    );
  });
});

describe('formatPayloadTime', () => {
  it('writes midnight as 00, not 24', () => {
    expect(formatPayloadTime(Date.UTC(2024, 0, 1, 0, 0, 0), 'UTC')).toBe('2024-01-01 00:00:00');
    expect(formatPayloadTime(Date.UTC(2023, 11, 31, 16, 0, 0), 'Asia/Shanghai')).toBe('2024-01-01 00:00:00');
    expect(formatPayloadTime(Date.UTC(2024, 0, 1, 5, 0, 0), 'America/New_York')).toBe('2024-01-01 00:00:00');
  });

  it('follows daylight saving time', () => {
    expect(formatPayloadTime(Date.UTC(2024, 6, 1, 12, 0, 0), 'Europe/Berlin')).toBe('2024-07-01 14:00:00');
    expect(formatPayloadTime(Date.UTC(2024, 0, 1, 12, 0, 0), 'Europe/Berlin')).toBe('2024-01-01 13:00:00');
    expect(formatPayloadTime(Date.UTC(2024, 6, 1, 12, 0, 0), 'Asia/Kolkata')).toBe('2024-07-01 17:30:00');
  });

  it('drops milliseconds rather than rounding', () => {
    expect(formatPayloadTime(Date.UTC(2016, 10, 29, 12, 25, 46, 999), 'UTC')).toBe('2016-11-29 12:25:46');
  });

  it('gives the same text on the UTC fast path as through Intl', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (ms) => {
        expect(formatPayloadTime(ms, 'UTC')).toBe(formatPayloadTime(ms, 'Etc/UTC'));
      }),
    );
  });

  it('refuses unknown zones and non-times', () => {
    expect(() => formatPayloadTime(0, 'Mars/Olympus_Mons')).toThrow(RangeError);
    expect(() => formatPayloadTime(Number.NaN, 'UTC')).toThrow(RangeError);
    expect(() => formatPayloadTime(8.64e15 + 1, 'UTC')).toThrow(RangeError);
  });
});

describe('isValidTimeZone', () => {
  it.each(['UTC', 'Etc/UTC', 'Asia/Shanghai', 'America/Argentina/Buenos_Aires', 'Europe/Berlin'])(
    '%s',
    (tz) => {
      expect(isValidTimeZone(tz)).toBe(true);
    },
  );

  it.each(['', 'Mars/Olympus_Mons', 'Asia/Nowhere', 'not a zone'])('%j is not a zone', (tz) => {
    expect(isValidTimeZone(tz)).toBe(false);
  });
});
