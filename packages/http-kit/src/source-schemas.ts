/**
 * The bodies registries post to `POST /v1/events/<source>`, as far as the api reads them.
 * Loose objects: a vendor adds fields between versions, and only what is read is checked.
 * The api's readers (apps/api/src/sources) parse with these and the OpenAPI document is
 * generated from them.
 */
import { namespaceNameSchema } from '@registry-triggers/core';
import { z } from 'zod';
import { MAX_EVENTS_PER_REQUEST } from './request-schemas.js';

/** Longest string field read from a vendor body; real ones are a few hundred characters. */
const MAX_FIELD = 2048;
const text = (field: string) =>
  z
    .string({ error: `${field} must be a string` })
    .max(MAX_FIELD, `${field} must be at most ${MAX_FIELD} characters`);

/** The `?namespace=` of every source route (all but `namespace` and `access_token` are ignored). */
export const sourceQuerySchema = z.looseObject({
  namespace: namespaceNameSchema.optional().meta({
    description:
      "Put every push of this request in this namespace, the source's whole repository path being the repository (default: the path's first segment, or a namespace token's namespace for one-segment paths).",
  }),
});

const harborResourceSchema = z.looseObject({
  digest: text('digest').optional(),
  tag: text('tag').optional(),
  resource_url: text('resource_url').optional(),
});

/** `event_data` of a Harbor artifact event, and `data` of its CloudEvents format. */
export const harborArtifactDataSchema = z.looseObject({
  resources: z
    .array(harborResourceSchema, { error: 'resources must be an array' })
    .max(MAX_EVENTS_PER_REQUEST, `an event holds at most ${MAX_EVENTS_PER_REQUEST} resources`),
  repository: z.looseObject(
    {
      name: text('name').optional(),
      namespace: text('namespace').optional(),
      repo_full_name: text('repo_full_name'),
    },
    { error: 'repository must be an object' },
  ),
});

/** A Harbor webhook in its "Default" payload format. */
export const harborWebhookSchema = z.looseObject({
  type: text('type'),
  occur_at: z.number({ error: 'occur_at must be epoch seconds' }).optional(),
  operator: z.string().optional(),
  // Only an artifact push is read further (other types carry other data).
  event_data: z.unknown().optional(),
});

export const dockerHubWebhookSchema = z.looseObject({
  push_data: z.looseObject(
    {
      tag: text('tag').optional(),
      pushed_at: z.number({ error: 'pushed_at must be epoch seconds' }).optional(),
      pusher: z.string().optional(),
    },
    { error: 'push_data must be an object' },
  ),
  repository: z.looseObject(
    { repo_name: text('repo_name'), namespace: text('namespace').optional(), name: text('name').optional() },
    { error: 'repository must be an object' },
  ),
  callback_url: z.string().optional(),
});

export const quayNotificationSchema = z.looseObject({
  repository: text('repository'),
  namespace: text('namespace').optional(),
  name: text('name').optional(),
  docker_url: text('docker_url').optional(),
  // Absent on the other events a notification posts (builds, scans, mirrors): ignored.
  updated_tags: z
    .array(text('tag'), { error: 'updated_tags must be an array of tag names' })
    .max(MAX_EVENTS_PER_REQUEST, `updated_tags holds at most ${MAX_EVENTS_PER_REQUEST} tags`)
    .optional(),
});

export const azureWebhookSchema = z.looseObject({
  id: text('id').optional(),
  timestamp: text('timestamp').optional(),
  action: text('action'),
  target: z
    .looseObject({
      mediaType: text('mediaType').optional(),
      repository: text('repository').optional(),
      tag: text('tag').optional(),
      digest: text('digest').optional(),
    })
    .optional(),
  request: z.looseObject({ host: text('host').optional() }).optional(),
});

/** An EventBridge event as an API destination posts it (default: the whole event). */
export const eventBridgeEventSchema = z.looseObject({
  id: text('id'),
  'detail-type': text('detail-type'),
  source: text('source'),
  time: text('time').optional(),
  account: text('account').optional(),
  region: text('region').optional(),
  detail: z.record(z.string(), z.unknown(), { error: 'detail must be an object' }),
});

export const ecrImageActionSchema = z.looseObject({
  'action-type': text('action-type').optional(),
  result: text('result').optional(),
  'repository-name': text('repository-name').optional(),
  'image-digest': text('image-digest').optional(),
  'image-tag': text('image-tag').optional(),
});

/** A Pub/Sub push subscription's request (the wrapped form). */
export const pubSubPushSchema = z.looseObject({
  message: z.looseObject(
    {
      data: z
        .string({ error: 'data must be a base64 string' })
        .max(64 * 1024, 'data must be at most 64 KiB of base64')
        .optional(),
      messageId: text('messageId').optional(),
      message_id: text('message_id').optional(),
      publishTime: text('publishTime').optional(),
      publish_time: text('publish_time').optional(),
      attributes: z.record(z.string(), z.string()).optional(),
    },
    { error: 'message must be an object' },
  ),
  subscription: z.string().optional(),
});

/** What Artifact Registry publishes on its `gcr` topic. */
export const garNotificationSchema = z.looseObject({
  action: text('action'),
  digest: text('digest').optional(),
  tag: text('tag').optional(),
});

/** A CloudEvent in structured mode (and each item of a batch). */
export const cloudEventSchema = z.looseObject({
  specversion: z.literal('1.0', { error: 'specversion must be "1.0"' }),
  id: text('id').min(1, 'id must not be empty'),
  source: text('source').min(1, 'source must not be empty'),
  type: text('type').min(1, 'type must not be empty'),
  time: text('time').optional(),
  datacontenttype: text('datacontenttype').optional(),
  data: z.unknown().optional(),
  data_base64: z.string({ error: 'data_base64 must be a string' }).optional(),
});

export const cloudEventBatchSchema = z
  .array(cloudEventSchema)
  .max(MAX_EVENTS_PER_REQUEST, `a batch holds at most ${MAX_EVENTS_PER_REQUEST} events`);

/** zot's `zotregistry.image.updated` data. */
export const zotImageDataSchema = z.looseObject({
  name: text('name'),
  reference: text('reference'),
  digest: text('digest').optional(),
  mediaType: text('mediaType').optional(),
});

/** This product's own `dev.registry-triggers.push` data: the ACR payload. */
export const acrPayloadSchema = z.looseObject({
  push_data: z.looseObject(
    { digest: z.string({ error: 'digest must be a string' }).max(MAX_FIELD), tag: text('tag') },
    { error: 'push_data must be an object' },
  ),
  repository: z.looseObject(
    { name: text('name'), namespace: text('namespace'), repo_full_name: text('repo_full_name').optional() },
    { error: 'repository must be an object' },
  ),
});
