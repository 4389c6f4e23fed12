/**
 * Names as the CNCF distribution registry spells them, so a repository that a
 * registry accepts is one the api accepts too.
 */
import { z } from 'zod';

/** distribution/reference `NameTotalLengthMax`: the whole `ns/repo` name. */
export const MAX_FULL_NAME_LENGTH = 255;

// The reference grammar is `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`. Its `[-]*`
// may match nothing, which makes the group ambiguous and lets a backtracking
// engine (V8) run for exponential time on inputs like 'aaaa…!'. `-+` accepts
// the same language (an empty separator only glues two alphanumeric runs
// together, which `[a-z0-9]+` already does) and every repetition must consume
// a separator, so V8 cannot backtrack into it. names.test.ts checks that both
// grammars agree.
export const PATH_COMPONENT_PATTERN = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
export const REFERENCE_PATH_COMPONENT_GRAMMAR = '[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*';

const COMPONENT_RULE =
  'must be lowercase letters and digits, optionally separated by one ".", one "_", "__" or any number of "-"';

export const namespaceNameSchema = z
  .string({ error: 'namespace must be a string' })
  .min(1, 'namespace must not be empty')
  .max(MAX_FULL_NAME_LENGTH, `namespace must be at most ${MAX_FULL_NAME_LENGTH} characters`)
  .regex(PATH_COMPONENT_PATTERN, `namespace ${COMPONENT_RULE}`);

// A repository needs room for at least a one-letter namespace and the '/'.
const MAX_REPOSITORY_LENGTH = MAX_FULL_NAME_LENGTH - 2;

export const repositoryNameSchema = z
  .string({ error: 'repository must be a string' })
  .min(1, 'repository must not be empty')
  .max(MAX_REPOSITORY_LENGTH, `repository must be at most ${MAX_REPOSITORY_LENGTH} characters`)
  .refine(
    (name) => name.split('/').every((component) => PATH_COMPONENT_PATTERN.test(component)),
    `each "/"-separated part of a repository ${COMPONENT_RULE}`,
  );

/** The length rule that needs both halves: `ns/repo` is at most 255 characters. */
export function isFullNameWithinLimit(namespace: string, repository: string): boolean {
  return namespace.length + 1 + repository.length <= MAX_FULL_NAME_LENGTH;
}

export const fullNameLengthRule = `namespace/repository must be at most ${MAX_FULL_NAME_LENGTH} characters`;

export const tagSchema = z
  .string({ error: 'tag must be a string' })
  .regex(
    /^\w[\w.-]{0,127}$/,
    'tag must be 1 to 128 characters of letters, digits, "_", "." or "-", not starting with "." or "-"',
  );

// OCI image-spec digest grammar. Registered algorithms also fix the encoding;
// sha512 is registered too, so it gets the same treatment as sha256.
const DIGEST_PATTERN = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const REGISTERED_DIGEST_ENCODINGS: ReadonlyMap<string, RegExp> = new Map([
  ['sha256', /^[a-f0-9]{64}$/],
  ['sha512', /^[a-f0-9]{128}$/],
]);
// The grammar has no upper bound; real digests are < 200 characters and this
// keeps a hostile event from carrying megabytes through the queue.
const MAX_DIGEST_LENGTH = 1024;

export const digestSchema = z
  .string({ error: 'digest must be a string' })
  .max(MAX_DIGEST_LENGTH, `digest must be at most ${MAX_DIGEST_LENGTH} characters`)
  .regex(DIGEST_PATTERN, 'digest must be "algorithm:encoded", e.g. sha256:<64 lowercase hex>')
  .refine((digest) => {
    const colon = digest.indexOf(':');
    if (colon < 0) return true; // the grammar check above already reports it
    const encoding = REGISTERED_DIGEST_ENCODINGS.get(digest.slice(0, colon));
    return encoding === undefined || encoding.test(digest.slice(colon + 1));
  }, 'sha256 digests must have 64 and sha512 digests 128 lowercase hex characters');
