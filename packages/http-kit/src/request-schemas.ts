/**
 * The zod schemas of the contract's request bodies and queries: the routes of both apps parse
 * with them, and the OpenAPI document (served by both apps) is generated from them.
 */
import {
  digestSchema,
  fullNameLengthRule,
  isFullNameWithinLimit,
  namespaceNameSchema,
  quoteNames,
  recordReasonSchema,
  recordStatusSchema,
  repositoryNameSchema,
  tagSchema,
} from '@registry-triggers/core';
import { isRecordId, TOKEN_SCOPES } from '@registry-triggers/store';
import { z } from 'zod';

export const MAX_EVENTS_PER_REQUEST = 1000;

export const pushEventSchema = z
  .strictObject({
    namespace: namespaceNameSchema,
    repository: repositoryNameSchema,
    tag: tagSchema,
    digest: digestSchema,
    pushedAt: z.iso.datetime({ offset: true }).optional(),
    eventId: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
      .optional(),
  })
  .refine((event) => isFullNameWithinLimit(event.namespace, event.repository), {
    message: fullNameLengthRule,
    path: ['repository'],
    // Only for halves that are valid on their own: an over-long repository says so once.
    when: (payload) => payload.issues.length === 0,
  });

export const pushEventBatchSchema = z
  .array(pushEventSchema)
  .min(1, 'a batch must hold at least one event')
  .max(MAX_EVENTS_PER_REQUEST, `a batch holds at most ${MAX_EVENTS_PER_REQUEST} events`);

export const pushEventsBodySchema = z.union([pushEventSchema, pushEventBatchSchema]);

const metadataName = (field: string) =>
  z
    .string({ error: `${field} must be a string` })
    .regex(/^[A-Z0-9_]{1,64}$/, `${field} must be 1 to 64 upper-case letters, digits and underscores`);

const repositoryFields = {
  repoType: z.enum(['PUBLIC', 'PRIVATE'], { error: 'repoType must be PUBLIC or PRIVATE' }),
  authenticationType: metadataName('authenticationType').optional(),
  originType: metadataName('originType').optional(),
};

/**
 * What a read shows besides, accepted so that a repository as read can be sent back edited:
 * `namespace` and `name` must be the path's (the route checks), the times are ignored.
 */
export const REPOSITORY_READ_ONLY_FIELDS = ['namespace', 'name', 'createdAt', 'updatedAt'] as const;

/** The body of PUT repository. */
export const repositoryBodySchema = z.strictObject(
  {
    ...repositoryFields,
    namespace: z.string({ error: 'namespace must be a string' }).optional(),
    name: z.string({ error: 'name must be a string' }).optional(),
    createdAt: z.unknown().optional(),
    updatedAt: z.unknown().optional(),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${quoteNames(issue.keys)}; a repository has ${[...Object.keys(repositoryFields), ...REPOSITORY_READ_ONLY_FIELDS].join(', ')}`
        : undefined,
  },
);

export const DISTRIBUTION_MEDIA_TYPES = [
  'application/vnd.docker.distribution.events.v1+json',
  'application/vnd.docker.distribution.events.v2+json',
  'application/json',
];

const distributionEventSchema = z.looseObject({
  id: z.string().optional(),
  timestamp: z.string().optional(),
  action: z.string().optional(),
  target: z
    .looseObject({
      mediaType: z.string().optional(),
      digest: z.string().optional(),
      repository: z.string().optional(),
      tag: z.string().optional(),
    })
    .optional(),
});

/** The most events an envelope may hold whatever MAX_EVENTS_PER_ENVELOPE says (the api's setting, 413 above it). */
export const MAX_ENVELOPE_EVENTS_CEILING = 10_000;

/** A notification envelope of the CNCF distribution registry. */
export const distributionEnvelopeSchema = z.looseObject({
  events: z.array(distributionEventSchema).max(MAX_ENVELOPE_EVENTS_CEILING),
});

/** An access-log record id: a Redis stream id whose two parts fit in 64 bits. */
export const recordIdSchema = z.string().refine(isRecordId, 'must be a record id such as 1732665000000-0');

// Epoch ms, or an ISO-8601 time; either way not before 1970 (stream ids have no negative times).
const recordTime = z.union([
  z.coerce.number().int().min(0),
  z.iso
    .datetime({ offset: true })
    .transform((value) => Date.parse(value))
    .pipe(z.number().min(0, 'must not be before 1970-01-01T00:00:00Z')),
]);

/** The query of the logs app's record lists. */
export const recordQuerySchema = z.strictObject({
  status: recordStatusSchema.optional(),
  reason: recordReasonSchema.optional(),
  tag: z.string().min(1).max(128).optional(),
  since: recordTime.optional(),
  until: recordTime.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: recordIdSchema.optional(),
});

export const MAX_TOKEN_NAME_LENGTH = 64;
export const MAX_ROTATION_GRACE_SECONDS = 86_400;

/** expiresAt: epoch ms or ISO-8601 with an offset, in the future; null for never. */
const expiresAtSchema = z
  .union(
    [z.number().int().positive(), z.iso.datetime({ offset: true }).transform((value) => Date.parse(value))],
    { error: 'expiresAt must be epoch ms or an ISO-8601 time with an offset' },
  )
  .nullable()
  .refine((value) => value === null || value > Date.now(), 'expiresAt must be in the future')
  .meta({
    description:
      'When the token stops working: epoch ms or ISO-8601 with an offset; null or absent for never.',
  });

/** The body of POST /v1/namespaces/{ns}/tokens (optional: an empty body is a nameless admin token). */
export const tokenInputSchema = z.strictObject(
  {
    name: z
      .string({ error: 'name must be a string' })
      .max(MAX_TOKEN_NAME_LENGTH, `name must be at most ${MAX_TOKEN_NAME_LENGTH} characters`)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
      .regex(/^[^\u0000-\u001f\u007f]*$/, 'name must not contain control characters')
      .optional()
      .meta({ description: 'A name for people, at most 64 characters.' }),
    scope: z
      .enum(TOKEN_SCOPES, { error: `scope must be one of ${TOKEN_SCOPES.join(', ')}` })
      .optional()
      .meta({
        description:
          'admin (default): every right inside the namespace; read: every GET of the namespace; ingest: only POST /v1/events/* for the namespace.',
      }),
    expiresAt: expiresAtSchema.optional(),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown field ${issue.keys.join(', ')}; a token has name, scope, expiresAt`
        : undefined,
  },
);

/** The body of POST /v1/namespaces/{ns}/tokens/{id}/rotate (optional). */
export const tokenRotationSchema = z.strictObject(
  {
    graceSeconds: z
      .number({ error: 'graceSeconds must be a number' })
      .int('graceSeconds must be a whole number')
      .min(0, `graceSeconds must be 0 to ${MAX_ROTATION_GRACE_SECONDS}`)
      .max(MAX_ROTATION_GRACE_SECONDS, `graceSeconds must be 0 to ${MAX_ROTATION_GRACE_SECONDS}`)
      .optional()
      .meta({ description: 'How long the old token keeps working (default 0: it stops now).' }),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown field ${issue.keys.join(', ')}; a rotation has graceSeconds`
        : undefined,
  },
);
