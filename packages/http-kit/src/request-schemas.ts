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
  recordStatusSchema,
  repositoryNameSchema,
  tagSchema,
} from '@registry-triggers/core';
import { isRecordId } from '@registry-triggers/store';
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

/** A notification envelope of the CNCF distribution registry. */
export const distributionEnvelopeSchema = z.looseObject({
  events: z.array(distributionEventSchema).max(10_000),
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
  tag: z.string().min(1).max(128).optional(),
  since: recordTime.optional(),
  until: recordTime.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: recordIdSchema.optional(),
});
