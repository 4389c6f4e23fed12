import { describe, expect, it } from 'vitest';
import { rateLimitSchema, triggerOptionsOf, untriggeredReason } from './trigger-options.js';

const SIGNATURE = `sha256-${'ab'.repeat(32)}.sig`;
const all = { type: 'ALL' } as const;

describe('triggerOptionsOf', () => {
  it('fills every absent option with its default', () => {
    expect(triggerOptionsOf({})).toEqual({
      skipArtifactTags: true,
      onlyOnDigestChange: false,
      format: 'acr',
      coalesce: false,
      ordered: false,
      rateLimit: undefined,
    });
    expect(
      triggerOptionsOf({
        skipArtifactTags: false,
        onlyOnDigestChange: true,
        format: 'cloudevents',
        coalesce: true,
        ordered: true,
        rateLimit: { perSecond: 5, maxInFlight: 2 },
      }),
    ).toEqual({
      skipArtifactTags: false,
      onlyOnDigestChange: true,
      format: 'cloudevents',
      coalesce: true,
      ordered: true,
      rateLimit: { perSecond: 5, maxInFlight: 2 },
    });
  });

  it('rateLimit: perSecond 0.1 to 1000, maxInFlight 1 to 256, nothing else', () => {
    const valid = (value: unknown) => rateLimitSchema.safeParse(value).success;
    expect(valid({ perSecond: 0.1 })).toBe(true);
    expect(valid({ perSecond: 1000, maxInFlight: 256 })).toBe(true);
    expect(valid({ perSecond: 0.09 })).toBe(false);
    expect(valid({ perSecond: 1001 })).toBe(false);
    expect(valid({ perSecond: 5, maxInFlight: 257 })).toBe(false);
    expect(valid({ perSecond: 5, maxInFlight: 1.5 })).toBe(false);
    expect(valid({ perSecond: 5, burst: 2 })).toBe(false);
    expect(valid({})).toBe(false);
  });
});

describe('untriggeredReason', () => {
  it('fires for an image tag the filter matches', () => {
    expect(untriggeredReason(all, { tag: 'latest' })).toBeUndefined();
  });

  it('skips artifact tags by default, and fires for them with skipArtifactTags: false', () => {
    expect(untriggeredReason(all, { tag: SIGNATURE })).toBe('artifact-tag');
    expect(untriggeredReason({ ...all, skipArtifactTags: true }, { tag: SIGNATURE })).toBe('artifact-tag');
    expect(untriggeredReason({ ...all, skipArtifactTags: false }, { tag: SIGNATURE })).toBeUndefined();
  });

  it('names the filter first: a tag the trigger does not watch is `filter`', () => {
    const list = { type: 'TAG_LIST' as const, tags: ['latest'] };
    expect(untriggeredReason(list, { tag: 'v1' })).toBe('filter');
    expect(untriggeredReason(list, { tag: SIGNATURE })).toBe('filter');
    const expression = { type: 'TAG_REG_EXP', expression: 'sha256-.*' } as const;
    expect(untriggeredReason(expression, { tag: SIGNATURE })).toBe('artifact-tag');
  });
});

describe('untriggeredReason: onlyOnDigestChange', () => {
  const D1 = `sha256:${'1'.repeat(64)}`;
  const D2 = `sha256:${'2'.repeat(64)}`;
  const watching = { ...all, onlyOnDigestChange: true };

  it('does not fire when the tag stays on its digest, and fires when it moved or is new', () => {
    expect(untriggeredReason(watching, { tag: 'latest', digest: D1, previousDigest: D1 })).toBe(
      'same-digest',
    );
    expect(untriggeredReason(watching, { tag: 'latest', digest: D2, previousDigest: D1 })).toBeUndefined();
    expect(untriggeredReason(watching, { tag: 'latest', digest: D1, previousDigest: null })).toBeUndefined();
  });

  it('a push without a digest never counts as the same digest', () => {
    expect(untriggeredReason(watching, { tag: 'latest', digest: '', previousDigest: '' })).toBeUndefined();
  });

  it('off by default: the same digest fires', () => {
    expect(untriggeredReason(all, { tag: 'latest', digest: D1, previousDigest: D1 })).toBeUndefined();
  });
});
