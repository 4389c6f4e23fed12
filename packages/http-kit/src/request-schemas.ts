/**
 * The zod schemas of the contract's request bodies and queries: the routes of both apps parse
 * with them, and the OpenAPI document (served by both apps) is generated from them.
 */
import {
  digestSchema,
  fullNameLengthRule,
  isFullNameWithinLimit,
  namespaceNameSchema,
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
  });

export const pushEventBatchSchema = z
  .array(pushEventSchema)
  .min(1, 'a batch must hold at least one event')
  .max(MAX_EVENTS_PER_REQUEST, `a batch holds at most ${MAX_EVENTS_PER_REQUEST} events`);

export const pushEventsBodySchema = z.union([pushEventSchema, pushEventBatchSchema]);

const metadataName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Z0-9_]+$/, 'must be upper-case letters, digits and underscores');

export const repositoryBodySchema = z.strictObject({
  repoType: z.enum(['PUBLIC', 'PRIVATE']),
  authenticationType: metadataName.optional(),
  originType: metadataName.optional(),
});

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
