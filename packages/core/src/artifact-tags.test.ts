import { describe, expect, it } from 'vitest';
import { isArtifactTag } from './artifact-tags.js';

// The tags of one image as `cosign sign`, `cosign attest`, `cosign attach sbom` and an
// OCI 1.1 registry without the referrers API leave them (crane ls of a signed image),
// beside the image tags a team pushes.
const SUBJECT = 'a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4';
const SHA512_SUBJECT =
  'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e';
const COSIGN_TAG_LIST = [
  `sha256-${SUBJECT}.sig`,
  `sha256-${SUBJECT}.att`,
  `sha256-${SUBJECT}.sbom`,
  `sha256-${SUBJECT}`,
  `sha512-${SHA512_SUBJECT.slice(0, 64)}`,
];
const IMAGE_TAGS = [
  'latest',
  'v1.2.3',
  '1.0',
  'main-3f2a1b9',
  'sha-3f2a1b9',
  `sha256-${SUBJECT.slice(0, 12)}`,
];

describe('isArtifactTag', () => {
  it.each(COSIGN_TAG_LIST)('%s is an artifact tag', (tag) => {
    expect(isArtifactTag(tag)).toBe(true);
  });

  it.each(IMAGE_TAGS)('%s is an image tag', (tag) => {
    expect(isArtifactTag(tag)).toBe(false);
  });

  it.each([
    ['an unknown suffix', `sha256-${SUBJECT}.sig2`],
    ['an upper-case digest (OCI digests are lower-case hex)', `sha256-${SUBJECT.toUpperCase()}.sig`],
    ['63 hex characters', `sha256-${SUBJECT.slice(1)}.sig`],
    ['an untruncated sha512 (the schema cuts it to 64)', `sha512-${SHA512_SUBJECT}`],
    ['another algorithm', `md5-${SUBJECT}.sig`],
    ['a prefix before the digest', `x-sha256-${SUBJECT}.sig`],
    ['a colon as in a digest (not a valid tag anyway)', `sha256:${SUBJECT}`],
  ])('%s is not one', (_why, tag) => {
    expect(isArtifactTag(tag)).toBe(false);
  });
});
