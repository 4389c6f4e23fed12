/**
 * Tags that name a supply-chain artifact of an image rather than an image to deploy: the
 * signatures, attestations and SBOMs that cosign/sigstore push beside an image
 * (`sha256-<hex>.sig`, `.att`, `.sbom`), and the fallback tags of the OCI referrers API
 * (distribution-spec "referrers tag schema": `<alg>-<ref>`). Pushing one must not redeploy.
 *
 * The referrers tag schema truncates the algorithm to 32 and the encoded digest to 64
 * characters, so a sha512 subject's tag is `sha512-` and the first 64 of its 128 hex
 * characters: both sha256 and sha512 therefore have exactly 64 lowercase hex characters
 * here. Other algorithms (none registered in OCI today) are not guessed at.
 */
const ARTIFACT_TAG = /^sha(?:256|512)-[0-9a-f]{64}(?:\.(?:sig|att|sbom))?$/;

export function isArtifactTag(tag: string): boolean {
  return ARTIFACT_TAG.test(tag);
}
