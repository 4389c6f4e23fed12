import { describe, expect, it } from 'vitest';
import { triggerOptionsOf, untriggeredReason } from './trigger-options.js';

const SIGNATURE = `sha256-${'ab'.repeat(32)}.sig`;
const all = { type: 'ALL' } as const;

describe('triggerOptionsOf', () => {
  it('fills every absent option with its default', () => {
    expect(triggerOptionsOf({})).toEqual({
      skipArtifactTags: true,
      onlyOnDigestChange: false,
      format: 'acr',
    });
    expect(
      triggerOptionsOf({ skipArtifactTags: false, onlyOnDigestChange: true, format: 'cloudevents' }),
    ).toEqual({ skipArtifactTags: false, onlyOnDigestChange: true, format: 'cloudevents' });
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
