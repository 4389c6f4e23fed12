/**
 * The OpenAPI 3.1 document of the whole contract: the api app's routes and the logs app's,
 * served by both at `GET /openapi.json`. Request bodies, queries and path parameters are
 * generated from the zod schemas the routes parse with (core and ./request-schemas.ts), so
 * the document cannot drift from them. A path item served by one app only names it in
 * `servers`.
 */
import {
  accessRecordSchema,
  HTTP_PORT_RULE,
  HTTPS_PORT_RULE,
  MAX_CA_BUNDLE_BYTES,
  MAX_EXPRESSION_LENGTH,
  MAX_RESPONSE_BODY_BYTES,
  namespaceNameSchema,
  REDACTED,
  repositoryNameSchema,
  triggerInputSchema,
  triggerReplacementSchema,
  triggerSchema,
} from '@registry-triggers/core';
import { z } from 'zod';
import {
  DISTRIBUTION_MEDIA_TYPES,
  distributionEnvelopeSchema,
  MAX_EVENTS_PER_REQUEST,
  pushEventSchema,
  pushEventsBodySchema,
  recordQuerySchema,
  repositoryBodySchema,
  tokenInputSchema,
  tokenRotationSchema,
} from './request-schemas.js';
import {
  azureWebhookSchema,
  cloudEventBatchSchema,
  cloudEventSchema,
  dockerHubWebhookSchema,
  eventBridgeEventSchema,
  harborWebhookSchema,
  pubSubPushSchema,
  quayNotificationSchema,
  sourceQuerySchema,
} from './source-schemas.js';

type JsonSchema = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** What reads show for a trigger: the stored shape with the secret masked. */
const publicTriggerSchema = triggerSchema.extend({
  secret: z.literal(REDACTED).exactOptional(),
  headers: z.record(z.string(), z.literal(REDACTED)).exactOptional(),
});

/** Components generated from zod, with `$ref`s between them. */
function generatedSchemas(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  registry.add(namespaceNameSchema, { id: 'NamespaceName' });
  registry.add(repositoryNameSchema, { id: 'RepositoryName' });
  registry.add(triggerInputSchema, { id: 'TriggerInput' });
  registry.add(triggerReplacementSchema, { id: 'TriggerReplacement' });
  registry.add(publicTriggerSchema, { id: 'Trigger' });
  registry.add(accessRecordSchema, { id: 'AccessRecord' });
  registry.add(repositoryBodySchema, { id: 'RepositoryInput' });
  registry.add(pushEventSchema, { id: 'PushEvent' });
  registry.add(pushEventsBodySchema, { id: 'PushEvents' });
  registry.add(distributionEnvelopeSchema, { id: 'DistributionEnvelope' });
  registry.add(tokenInputSchema, { id: 'TokenInput' });
  registry.add(harborWebhookSchema, { id: 'HarborWebhook' });
  registry.add(dockerHubWebhookSchema, { id: 'DockerHubWebhook' });
  registry.add(quayNotificationSchema, { id: 'QuayNotification' });
  registry.add(azureWebhookSchema, { id: 'AzureWebhook' });
  registry.add(eventBridgeEventSchema, { id: 'EventBridgeEvent' });
  registry.add(pubSubPushSchema, { id: 'PubSubPush' });
  registry.add(cloudEventSchema, { id: 'CloudEvent' });
  registry.add(cloudEventBatchSchema, { id: 'CloudEventBatch' });
  registry.add(tokenRotationSchema, { id: 'TokenRotation' });
  // Refinements (URL rules, RE2 compilation) cannot be expressed in JSON Schema; the
  // descriptions below name them, and the api answers 400 with the rule that failed.
  const { schemas } = z.toJSONSchema(registry, {
    io: 'input',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  });
  const result: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    // The document's dialect is 2020-12 already, and a fragment-only `$id` is not a valid id.
    const { $schema: _dialect, $id: _id, ...rest } = schema as JsonSchema;
    result[id] = rest;
  }
  const triggerInputDescriptions = {
    name: 'A name for people, 1 to 64 characters without control characters.',
    url: `Where deliveries go. http or https only, no user-info; ${HTTP_PORT_RULE}; ${HTTPS_PORT_RULE}.`,
    tags: 'TAG_LIST only: 1 to 10 distinct tags.',
    expression: `TAG_REG_EXP only: an RE2 expression (no look-around or back-references, at most ${MAX_EXPRESSION_LENGTH} characters) that must match the whole tag.`,
    secret: `Signs deliveries (Standard Webhooks): whsec_ + base64, or a plain string of at least 8 characters. Reads show "${REDACTED}"; sending "${REDACTED}" back in a PUT keeps the stored secret.`,
    headers: `Extra request headers; the delivery owns Content-Type, Host, webhook-* and the framing headers. Values are write-only: reads show each name with "${REDACTED}", and a value sent back as "${REDACTED}" in a PUT or PATCH keeps the stored one (for a name with none it is a 400).`,
  };
  describeProperties(result.TriggerInput, triggerInputDescriptions);
  describeProperties(result.TriggerReplacement, {
    ...triggerInputDescriptions,
    id: 'Read-only: may be sent back as read; it must be the id in the URL.',
    namespace: 'Read-only: may be sent back as read; it must be the namespace in the URL.',
    repository: 'Read-only: may be sent back as read; it must be the repository in the URL.',
    createdAt: 'Read-only: ignored.',
    updatedAt: 'Read-only: ignored (set by the PUT).',
    disabledReason: 'Read-only: ignored; a PUT clears it.',
  });
  if (result.Trigger) {
    describeProperties(result.Trigger, {
      secret: `"${REDACTED}" when the trigger has a secret (write-only).`,
      headers: `The custom header names, each with "${REDACTED}" (values are write-only).`,
    });
  }
  if (result.TriggerReplacement) {
    result.TriggerPatch = triggerPatchSchema(result.TriggerReplacement);
  }
  if (result.TriggerReplacement) {
    result.TriggerReplacement.description =
      'The body of a trigger, as for POST; a trigger as read (secret "***" included) may be sent back edited.';
  }
  describeProperties(result.RepositoryInput, {
    namespace: 'Read-only: may be sent back as read; must be the namespace of the path.',
    name: 'Read-only: may be sent back as read; must be the repository of the path.',
    createdAt: 'Read-only: ignored.',
    updatedAt: 'Read-only: ignored (set by the PUT).',
  });
  describeProperties(result.PushEvent, {
    eventId: 'Idempotency key: the same id within 24 hours is answered 202 and counted as a duplicate.',
    pushedAt: 'ISO-8601 with an offset; defaults to the time the api received the event.',
    digest:
      'algorithm:encoded, as in OCI; sha256 must have 64 and sha512 128 lowercase hex characters (the pattern cannot say it).',
    repository:
      'The repository inside the namespace (may hold "/"); namespace/repository is at most 255 characters.',
  });
  describeProperties(result.DistributionEnvelope, {
    events:
      'At most MAX_EVENTS_PER_ENVELOPE events (default 500; more is 413 and nothing is taken). An event without an id gets one derived from its repository, tag, digest and timestamp.',
  });
  if (result.AccessRecord) {
    result.AccessRecord.description =
      'One access-log record: one per delivery attempt and one per enabled trigger whose filter did not match the tag.';
  }
  describeProperties(result.AccessRecord, {
    id: 'The record id (a Redis stream id, `<epoch ms>-<sequence>`); also the SSE event id.',
    triggerUrl: `The trigger URL, with secret-looking query values replaced by "${REDACTED}".`,
    triggerTag: 'The filter of the trigger: the tag list (comma-separated) or the expression; empty for ALL.',
    eventId: 'The push event this record belongs to.',
    deliveryId:
      'The webhook-id header of the delivery (the same on every retry); null when nothing was sent.',
    repository: 'The repository inside the namespace (may hold "/").',
    status:
      'untriggered: the filter did not match; retrying: this attempt failed and another follows; superseded: not sent (again), a newer push of the tag replaced it (coalesce).',
    statusCode:
      'The HTTP status as a string, "untriggered", or an error code such as ETIMEDOUT or ECONNREFUSED; ' +
      'for a delivery ended without sending: TRIGGER_DISABLED, TRIGGER_DELETED (deleted between two attempts), CANCELLED (its retries were cancelled), WORKER_LOST or SUPERSEDED (coalesce).',
    attempt: '1-based attempt number; 0 when nothing was sent.',
    requestTime: 'When the attempt started (or the trigger was evaluated), epoch ms.',
    durationMs: 'How long the attempt took.',
    requestHeaders: `The headers sent; authorization and signature headers read "${REDACTED}".`,
    requestBody: 'The body sent (the Alibaba Cloud push payload).',
    responseHeaders: `The receiver's answer headers; secret-looking ones read "${REDACTED}".`,
    responseBody: `At most ${MAX_RESPONSE_BODY_BYTES} bytes (UTF-8) of the receiver's answer.`,
    note: 'Why nothing was sent, or what else happened, when there is something to say.',
    reason:
      'Why the trigger did not fire (untriggered: filter, artifact-tag, same-digest), why its delivery ended without a request (failed: disabled, trigger-deleted, worker-lost; superseded: superseded), or what held an attempt back before it went (rate-limited, ordered); absent otherwise.',
    supersededBy: 'superseded records only: the event id of the newer push that replaced this delivery.',
    nextAttemptAt:
      'retrying records only: the earliest time (epoch ms) of the next attempt (a saturated receiver may postpone it a little).',
    requestId:
      'The X-Request-Id of the api request that took the push, also in the api and worker log lines; absent for records of pushes taken before it was kept.',
  });
  return result;
}

/**
 * The body of PATCH trigger (RFC 7386): any field of a PUT body, each optional, `null`
 * removing it; the patched trigger must then be a valid PUT body.
 */
function triggerPatchSchema(replacement: JsonSchema): JsonSchema {
  const properties = (replacement.properties ?? {}) as Record<string, JsonSchema>;
  return {
    type: 'object',
    description:
      'A JSON Merge Patch (RFC 7386) of the trigger as read: the fields to change, null to remove an optional one ' +
      `(secret, headers, tags, expression; or one header by name inside headers). "${REDACTED}" keeps a stored value ` +
      'as in PUT. The patched trigger must be a valid PUT body (the same rules); {"enabled": false} disables it.',
    properties: Object.fromEntries(
      Object.entries(properties).map(([name, schema]) => [
        name,
        // Inside headers, a null value removes that one header.
        name === 'headers'
          ? {
              anyOf: [{ ...schema, additionalProperties: { type: ['string', 'null'] } }, { type: 'null' }],
            }
          : { anyOf: [schema, { type: 'null' }] },
      ]),
    ),
    additionalProperties: false,
  };
}

/** One query parameter per property of a zod object schema that parses a query. */
function queryParameters(schema: z.ZodObject, descriptions: Record<string, string>): JsonSchema[] {
  const generated = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const properties = (generated.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((generated.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: required.has(name),
    ...(descriptions[name] ? { description: descriptions[name] } : {}),
    schema: property,
  }));
}

function describeProperties(schema: JsonSchema | undefined, descriptions: Record<string, string>): void {
  const properties = schema?.properties as Record<string, JsonSchema> | undefined;
  if (!properties) return;
  for (const [name, description] of Object.entries(descriptions)) {
    const property = properties[name];
    if (property) property.description = description;
  }
}

/** What a push answer says of events refused for a quota; both only when there are any. */
const refusedProperties: Record<string, JsonSchema> = {
  refused: {
    type: 'integer',
    minimum: 1,
    description:
      'Events not taken because their repository is new and its namespace holds REPOSITORIES_PER_NAMESPACE repositories already; no trigger fires for them, and sent again once there is room they are taken.',
  },
  refusedRepositories: {
    type: 'array',
    description: 'The repositories of the refused events, once each.',
    items: {
      type: 'object',
      required: ['namespace', 'repository', 'quota', 'limit'],
      properties: {
        namespace: { type: 'string' },
        repository: { type: 'string' },
        quota: { type: 'string', enum: ['REPOSITORIES_PER_NAMESPACE'] },
        limit: { type: 'integer' },
      },
    },
  },
};

const handWrittenSchemas: Record<string, JsonSchema> = {
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details.',
    required: ['type', 'title', 'status', 'detail'],
    properties: {
      type: { type: 'string', format: 'uri' },
      title: { type: 'string' },
      status: { type: 'integer', minimum: 400, maximum: 599 },
      detail: { type: 'string' },
      code: { type: 'string', description: 'Stable machine-readable code; the last segment of `type`.' },
      errors: {
        type: 'array',
        description: 'Validation failures, one per field and rule; at most 20 are listed.',
        items: {
          type: 'object',
          required: ['path', 'message'],
          properties: { path: { type: 'string' }, message: { type: 'string' } },
        },
      },
      errorsOmitted: {
        type: 'integer',
        minimum: 1,
        description: 'How many validation failures there were beyond the 20 listed in `errors`.',
      },
      limit: {
        type: 'integer',
        description:
          'A refusal for a limit (413 too-many-events, 409 quota): the value of the limit reached.',
      },
      quota: {
        type: 'string',
        description:
          'The setting that sets that limit: MAX_EVENTS_PER_ENVELOPE, REPOSITORIES_PER_NAMESPACE, TRIGGERS_PER_REPOSITORY or TRIGGERS_PER_NAMESPACE.',
      },
    },
  },
  Repository: {
    type: 'object',
    required: ['namespace', 'name', 'repoType', 'authenticationType', 'originType', 'createdAt', 'updatedAt'],
    properties: {
      namespace: { type: 'string' },
      name: { type: 'string' },
      repoType: { type: 'string', enum: ['PUBLIC', 'PRIVATE'] },
      authenticationType: { type: 'string' },
      originType: { type: 'string' },
      createdAt: { type: 'integer', description: 'epoch ms' },
      updatedAt: { type: 'integer', description: 'epoch ms' },
    },
  },
  RepositoryPage: {
    type: 'object',
    required: ['repositories', 'nextCursor'],
    properties: {
      repositories: { type: 'array', items: ref('Repository') },
      nextCursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page.' },
    },
  },
  TriggerList: {
    type: 'object',
    required: ['triggers'],
    properties: { triggers: { type: 'array', items: ref('Trigger') } },
  },
  IssuedToken: {
    type: 'object',
    description: 'A token at its creation or rotation: the only answer that holds its secret.',
    required: ['id', 'token', 'namespace', 'name', 'scope', 'createdAt', 'expiresAt', 'prefix'],
    properties: {
      id: { type: 'string', pattern: '^[0-9a-f]{24}$', description: 'Names the token in the token routes.' },
      token: { type: 'string', description: 'Shown once; only its hash is stored.' },
      namespace: { type: 'string' },
      name: { type: 'string' },
      scope: { type: 'string', enum: ['admin', 'read', 'ingest'] },
      createdAt: { type: 'integer', description: 'epoch ms' },
      expiresAt: { type: ['integer', 'null'], description: 'epoch ms; null: never' },
      prefix: {
        type: 'string',
        description: 'The first characters of the token, not secret, to recognise it.',
      },
    },
  },
  TokenInfo: {
    type: 'object',
    description: 'A token as listed: never its secret.',
    required: ['id', 'name', 'scope', 'createdAt', 'expiresAt', 'lastUsedAt', 'prefix'],
    properties: {
      id: { type: 'string', pattern: '^[0-9a-f]{24}$' },
      name: { type: 'string', description: 'Empty for tokens issued before names.' },
      scope: {
        type: 'string',
        enum: ['admin', 'read', 'ingest'],
        description: 'Tokens issued before scopes are admin tokens.',
      },
      createdAt: { type: 'integer', description: 'epoch ms' },
      expiresAt: {
        type: ['integer', 'null'],
        description: 'epoch ms; null: never. A rotated token shows the end of its grace period.',
      },
      lastUsedAt: {
        type: ['integer', 'null'],
        description: 'epoch ms, to within a minute; null: never used.',
      },
      prefix: { type: ['string', 'null'], description: 'null for tokens issued before prefixes.' },
    },
  },
  TokenList: {
    type: 'object',
    required: ['tokens'],
    properties: { tokens: { type: 'array', items: ref('TokenInfo') } },
  },
  NamespaceList: {
    type: 'object',
    required: ['namespaces'],
    properties: {
      namespaces: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name', 'repositories', 'triggers'],
          properties: {
            name: { type: 'string' },
            repositories: { type: 'integer', minimum: 0 },
            triggers: { type: 'integer', minimum: 0 },
          },
        },
      },
    },
  },
  CaBundleSummary: {
    type: 'object',
    required: ['namespace', 'certificates', 'sha256'],
    properties: {
      namespace: { type: 'string' },
      certificates: { type: 'integer', minimum: 1, description: 'How many certificates the bundle holds.' },
      sha256: {
        type: 'string',
        pattern: '^[0-9a-f]{64}$',
        description: 'Hex sha256 of the bundle as stored.',
      },
    },
  },
  PushResult: {
    type: 'object',
    required: ['accepted', 'duplicates', 'eventIds'],
    properties: {
      accepted: { type: 'integer', minimum: 0 },
      duplicates: { type: 'integer', minimum: 0 },
      eventIds: { type: 'array', items: { type: 'string' }, description: 'One per event, in request order.' },
      ...refusedProperties,
    },
  },
  DistributionResult: {
    type: 'object',
    required: ['accepted', 'duplicates', 'ignored', 'eventIds'],
    properties: {
      accepted: { type: 'integer', minimum: 0 },
      duplicates: { type: 'integer', minimum: 0 },
      ignored: {
        type: 'integer',
        minimum: 0,
        description:
          'What the request reported besides tagged pushes: blob pushes, pulls, deletes, untagged pushes, other event types.',
      },
      eventIds: { type: 'array', items: { type: 'string' } },
      ...refusedProperties,
    },
  },
  PendingDelivery: {
    type: 'object',
    required: ['deliveryId', 'status'],
    properties: { deliveryId: { type: 'string' }, status: { const: 'pending' } },
  },
  Redelivery: {
    type: 'object',
    required: ['deliveryId', 'eventId'],
    properties: { deliveryId: { type: 'string' }, eventId: { type: 'string' } },
  },
  RecordPage: {
    type: 'object',
    description: 'One page of records, newest first (the order they were written).',
    required: ['records', 'nextCursor'],
    properties: {
      records: { type: 'array', maxItems: 200, items: ref('AccessRecord') },
      nextCursor: {
        type: ['string', 'null'],
        description:
          'Pass as `cursor` for the next (older) page; null on the last page. A cursor keeps its place while new records arrive.',
      },
    },
  },
  Health: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string' } },
  },
  Readiness: {
    type: 'object',
    required: ['status', 'redis'],
    description:
      'What the app depends on. The api is ready while Redis takes a write; its body also counts the workers whose heartbeat is younger than 15 s (0: pushes are queued but nobody delivers them). The logs app is ready while Redis answers.',
    properties: {
      status: { type: 'string', description: '`ready`, or what is wrong' },
      redis: {
        type: 'string',
        description:
          '`writable` (api), `answering` (logs app), or why not: `unreachable`, or the error Redis answered',
      },
      workers: {
        type: 'object',
        required: ['alive'],
        description: 'api only',
        properties: { alive: { type: 'integer', minimum: 0 } },
      },
      warnings: { type: 'array', items: { type: 'string' } },
    },
  },
};

interface ProblemResponse {
  name: string;
  description: string;
  headers?: JsonSchema;
}

const problemResponses: Record<number, ProblemResponse> = {
  400: { name: 'BadRequest', description: 'Malformed JSON, or a parameter or body that breaks a rule.' },
  401: {
    name: 'Unauthorized',
    description: 'No valid bearer token.',
    headers: { 'WWW-Authenticate': { schema: { type: 'string' } } },
  },
  403: { name: 'Forbidden', description: 'The token lacks the right for this route.' },
  404: { name: 'NotFound', description: "Not found, or another tenant's object." },
  409: {
    name: 'Conflict',
    description:
      'The request conflicts with the state of the object: a quota of the namespace would be exceeded (`quota` names the setting: REPOSITORIES_PER_NAMESPACE for a new repository; TRIGGERS_PER_REPOSITORY, code trigger-limit, or TRIGGERS_PER_NAMESPACE for a new trigger, and `limit` its value), a record of another trigger or an untriggered one, a delivery already ended, an attempt being sent (cancel again), or a trigger that kept changing during a PATCH.',
  },
  413: {
    name: 'ContentTooLarge',
    description:
      'The body is larger than MAX_BODY_BYTES, or a distribution envelope holds more events than MAX_EVENTS_PER_ENVELOPE (code too-many-events, `limit` its value); nothing was taken.',
  },
  415: { name: 'UnsupportedMediaType', description: 'The body is not of an accepted media type.' },
  429: {
    name: 'TooManyRequests',
    description:
      "A limit of the caller's is reached: the token's test deliveries per minute (code rate-limited), or the namespace's live streams open at once (code too-many-streams); retry after the given number of seconds.",
    headers: { 'Retry-After': { schema: { type: 'integer' } } },
  },
  503: {
    name: 'ServiceUnavailable',
    description:
      'Redis is unreachable (or, on a cluster, no replica confirmed the event in time, or the request was not taken within INGEST_DEADLINE_MS: code ingest-deadline); retry after the given number of seconds, with the same eventId: some or all events may have been stored all the same, and only the same eventId makes the retry take exactly what was not taken.',
    headers: { 'Retry-After': { schema: { type: 'integer' } } },
  },
};

/** The logs app answers 503 for its own reasons: no event is being posted there. */
const logsProblemResponses: Record<number, ProblemResponse> = {
  ...problemResponses,
  503: {
    name: 'LogsUnavailable',
    description:
      'Redis is unreachable, or (live tail) the process has LOGS_MAX_STREAMS streams open; retry after the given number of seconds.',
    headers: { 'Retry-After': { schema: { type: 'integer' } } },
  },
};

function responseComponents(): Record<string, JsonSchema> {
  const responses: Record<string, JsonSchema> = {};
  for (const { name, description, headers } of [
    ...Object.values(problemResponses),
    ...Object.values(logsProblemResponses),
  ]) {
    responses[name] = {
      description,
      headers: { ...headers, 'X-Request-Id': requestIdHeader },
      content: { 'application/problem+json': { schema: ref('Problem') } },
    };
  }
  return responses;
}

const json = (schema: JsonSchema, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

const jsonBody = (schema: JsonSchema, mediaTypes = ['application/json']) => ({
  required: true,
  content: Object.fromEntries(mediaTypes.map((type) => [type, { schema }])),
});

interface OperationSpec {
  operationId: string;
  summary: string;
  tag: string;
  parameters?: JsonSchema[];
  requestBody?: JsonSchema;
  responses: Record<number, JsonSchema>;
  /** Problem statuses this operation can answer. */
  errors: number[];
  /** Public routes need no token. */
  public?: boolean;
  /** Other ways than the document's bearer token. */
  security?: JsonSchema[];
  /** Which problem response each status of `errors` refers to. */
  problems?: Record<number, ProblemResponse>;
  description?: string;
}

const REQUEST_ID_DESCRIPTION =
  'The request id: the X-Request-Id the caller sent when it is 1 to 128 of A-Z a-z 0-9 . _ : / + = @ -, else one made by the app; in the log lines of the request and, for a push, in the records of its deliveries.';
const requestIdParameter = {
  name: 'X-Request-Id',
  in: 'header',
  required: false,
  description: REQUEST_ID_DESCRIPTION,
  schema: { type: 'string', pattern: '^[A-Za-z0-9._:/+=@-]{1,128}$' },
};
const traceparentParameter = {
  name: 'traceparent',
  in: 'header',
  required: false,
  description:
    'W3C trace context of the caller: with tracing on (OTEL_EXPORTER_OTLP_ENDPOINT), the ingest span continues its trace, and the deliveries of the events are its descendants.',
  schema: { type: 'string', pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$' },
};
const requestIdHeader = { description: REQUEST_ID_DESCRIPTION, schema: { type: 'string' } };

function operation(spec: OperationSpec): JsonSchema {
  const responses: Record<string, JsonSchema> = {};
  for (const [status, response] of Object.entries(spec.responses))
    responses[status] = {
      ...response,
      headers: { ...(response.headers as JsonSchema | undefined), 'X-Request-Id': requestIdHeader },
    };
  for (const status of spec.errors) {
    const problem = (spec.problems ?? problemResponses)[status];
    if (!problem) throw new Error(`no problem response for ${status}`);
    responses[String(status)] = { $ref: `#/components/responses/${problem.name}` };
  }
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [spec.tag],
    ...(spec.public ? { security: [] } : spec.security ? { security: spec.security } : {}),
    parameters: [...(spec.parameters ?? []), requestIdParameter],
    ...(spec.requestBody ? { requestBody: spec.requestBody } : {}),
    responses,
  };
}

const pathParameter = (name: string, schema: JsonSchema, description: string, example?: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema,
  ...(example ? { example } : {}),
});

const nsParameter = pathParameter('ns', ref('NamespaceName'), 'The namespace (the first segment).', 'myns');
const repoParameter = pathParameter(
  'repo',
  ref('RepositoryName'),
  'The repository inside the namespace. It may hold further "/" segments: send each "/" URL-encoded as %2F ' +
    '(team/app is sent as team%2Fapp), which simple-style path serialization does.',
  'team/app',
);
const tokenIdParameter = pathParameter(
  'tokenId',
  { type: 'string', pattern: '^[0-9a-f]{24}$' },
  'The token id (as listed).',
);
const triggerIdParameter = pathParameter('id', { type: 'string', maxLength: 100 }, 'The trigger id.');
const recordIdParameter = pathParameter(
  'recordId',
  { type: 'string', pattern: '^\\d{1,20}-\\d{1,20}$' },
  'An access-log record id of this trigger.',
);

// The two apps listen on their own ports of one host: variables, so a client can name its host.
const serverOn = (port: string, description: string) => ({
  url: '{scheme}://{host}:{port}',
  description,
  variables: {
    scheme: { default: 'http', enum: ['http', 'https'] },
    host: { default: '127.0.0.1' },
    port: { default: port },
  },
});
const apiServer = serverOn('8080', 'api app (API_PORT, default 8080)');
const logsServer = serverOn('8081', 'logs app (LOGS_PORT, default 8081)');
const BOTH_APPS = 'Served by both the api app and the logs app.';
const LOGS_APP = 'Served by the logs app (LOGS_PORT, default 8081), not by the api app.';

// Every /v1 route authenticates (a namespace token is looked up in Redis) and can meet an outage.
const authErrors = [401, 403, 503];
/** POST /v1/events/* also take the token as `?access_token=`. */
const eventSecurity = [{ bearer: [] }, { accessToken: [] }];
const namespaceErrors = [400, 401, 403, 404, 503];
const bodyErrors = [413, 415];

function paths(): Record<string, JsonSchema> {
  const repository = '/v1/namespaces/{ns}/repositories/{repo}';
  const triggers = `${repository}/triggers`;
  const trigger = `${triggers}/{id}`;
  return {
    '/healthz': {
      servers: [apiServer, logsServer],
      description: BOTH_APPS,
      get: operation({
        operationId: 'getHealth',
        summary: 'The process runs (always 200)',
        tag: 'health',
        public: true,
        responses: { 200: json(ref('Health'), 'Alive') },
        errors: [],
      }),
    },
    '/readyz': {
      servers: [apiServer, logsServer],
      description: BOTH_APPS,
      get: operation({
        operationId: 'getReadiness',
        summary: 'What the app depends on works (api: Redis takes writes, and the live workers are counted)',
        tag: 'health',
        public: true,
        responses: {
          200: json(ref('Readiness'), 'Ready'),
          503: json(ref('Readiness'), 'Redis is unreachable or refuses writes'),
        },
        errors: [],
      }),
    },
    '/metrics': {
      servers: [apiServer, logsServer],
      description: BOTH_APPS,
      get: operation({
        operationId: 'getMetrics',
        summary: 'Prometheus metrics',
        tag: 'health',
        public: true,
        responses: {
          200: {
            description: 'Prometheus text exposition format',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
        errors: [],
      }),
    },
    '/openapi.json': {
      servers: [apiServer, logsServer],
      description: BOTH_APPS,
      get: operation({
        operationId: 'getOpenApi',
        summary: 'This document (the api and the logs app serve the same one)',
        tag: 'health',
        public: true,
        responses: { 200: json({ type: 'object' }, 'OpenAPI 3.1 document') },
        errors: [],
      }),
    },
    '/v1/namespaces': {
      get: operation({
        operationId: 'listNamespaces',
        summary:
          'The namespaces with a repository or a token, with repository and trigger counts (admin only)',
        tag: 'tokens',
        responses: { 200: json(ref('NamespaceList'), 'The namespaces, in name order') },
        errors: authErrors,
      }),
    },
    '/v1/namespaces/{ns}/tokens': {
      parameters: [nsParameter],
      post: operation({
        operationId: 'issueNamespaceToken',
        summary:
          'Issue a token of the namespace (the admin, or an admin token of the namespace); the body is optional',
        tag: 'tokens',
        requestBody: { ...jsonBody(ref('TokenInput')), required: false },
        responses: { 201: json(ref('IssuedToken'), 'The token, shown once') },
        errors: [...namespaceErrors, ...bodyErrors],
      }),
      get: operation({
        operationId: 'listNamespaceTokens',
        summary: 'The tokens of the namespace that still work, without their secrets, oldest first',
        tag: 'tokens',
        responses: { 200: json(ref('TokenList'), 'The tokens') },
        errors: namespaceErrors,
      }),
    },
    '/v1/namespaces/{ns}/tokens/{tokenId}': {
      parameters: [nsParameter, tokenIdParameter],
      delete: operation({
        operationId: 'revokeNamespaceToken',
        summary: 'Revoke a token: every app refuses it within a second, open streams included',
        tag: 'tokens',
        responses: { 204: { description: 'Revoked' } },
        errors: namespaceErrors,
      }),
    },
    '/v1/namespaces/{ns}/tokens/{tokenId}/rotate': {
      parameters: [nsParameter, tokenIdParameter],
      post: operation({
        operationId: 'rotateNamespaceToken',
        summary:
          'A new token of the same name, scope and expiry; the old one works for graceSeconds more (default 0), then stops',
        tag: 'tokens',
        requestBody: { ...jsonBody(ref('TokenRotation')), required: false },
        responses: { 201: json(ref('IssuedToken'), 'The new token, shown once') },
        errors: [...namespaceErrors, ...bodyErrors],
      }),
    },
    '/v1/namespaces/{ns}/ca-bundle': {
      parameters: [nsParameter],
      put: operation({
        operationId: 'putCaBundle',
        summary:
          "Set the namespace's private CA bundle: HTTPS deliveries of the namespace trust the standard CAs plus these certificates",
        description:
          `PEM CERTIFICATE blocks only, each parsing as X.509, at most ${MAX_CA_BUNDLE_BYTES} bytes; ` +
          'anything else is a 400 naming the problem. Replaces the bundle before it. Verification stays on, and https stays port 443 only.',
        tag: 'namespaces',
        requestBody: {
          required: true,
          content: Object.fromEntries(
            ['application/x-pem-file', 'text/plain'].map((type) => [
              type,
              { schema: { type: 'string', maxLength: MAX_CA_BUNDLE_BYTES } },
            ]),
          ),
        },
        responses: { 200: json(ref('CaBundleSummary'), 'Stored') },
        errors: [...namespaceErrors, ...bodyErrors],
      }),
      get: operation({
        operationId: 'getCaBundle',
        summary: "The namespace's private CA bundle as it was put (any token of the namespace that may read)",
        tag: 'namespaces',
        responses: {
          200: {
            description: 'The PEM bundle',
            content: { 'application/x-pem-file': { schema: { type: 'string' } } },
          },
        },
        errors: namespaceErrors,
      }),
      delete: operation({
        operationId: 'deleteCaBundle',
        summary: 'Remove the bundle: HTTPS deliveries of the namespace trust the standard CAs only again',
        tag: 'namespaces',
        responses: { 204: { description: 'Removed' } },
        errors: namespaceErrors,
      }),
    },
    '/v1/namespaces/{ns}/repositories': {
      get: operation({
        operationId: 'listRepositories',
        summary: 'Repositories of a namespace in name order',
        tag: 'repositories',
        parameters: [
          nsParameter,
          {
            name: 'limit',
            in: 'query',
            required: false,
            schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
          },
          { name: 'cursor', in: 'query', required: false, schema: { type: 'string', maxLength: 300 } },
        ],
        responses: { 200: json(ref('RepositoryPage'), 'One page') },
        errors: namespaceErrors,
      }),
    },
    [repository]: {
      parameters: [nsParameter, repoParameter],
      put: operation({
        operationId: 'putRepository',
        summary: 'Create or update a repository',
        tag: 'repositories',
        requestBody: jsonBody(ref('RepositoryInput')),
        responses: {
          200: json(ref('Repository'), 'Updated'),
          201: json(ref('Repository'), 'Created'),
        },
        errors: [...namespaceErrors, 409, ...bodyErrors],
      }),
      get: operation({
        operationId: 'getRepository',
        summary: 'One repository',
        tag: 'repositories',
        responses: { 200: json(ref('Repository'), 'The repository') },
        errors: namespaceErrors,
      }),
      delete: operation({
        operationId: 'deleteRepository',
        summary:
          'Delete a repository and its triggers: they stop at once (queued deliveries end failed TRIGGER_DELETED); its records stay until retention',
        tag: 'repositories',
        responses: { 204: { description: 'Deleted' } },
        errors: namespaceErrors,
      }),
    },
    [triggers]: {
      parameters: [nsParameter, repoParameter],
      post: operation({
        operationId: 'createTrigger',
        summary: 'Create a trigger',
        tag: 'triggers',
        requestBody: jsonBody(ref('TriggerInput')),
        responses: {
          201: {
            ...json(ref('Trigger'), 'Created; the secret is never shown again'),
            headers: { Location: { schema: { type: 'string' } } },
          },
        },
        errors: [...namespaceErrors, 409, ...bodyErrors],
      }),
      get: operation({
        operationId: 'listTriggers',
        summary: 'Triggers of a repository, oldest first',
        tag: 'triggers',
        responses: { 200: json(ref('TriggerList'), 'The triggers') },
        errors: namespaceErrors,
      }),
    },
    [trigger]: {
      parameters: [nsParameter, repoParameter, triggerIdParameter],
      get: operation({
        operationId: 'getTrigger',
        summary: 'One trigger',
        tag: 'triggers',
        responses: { 200: json(ref('Trigger'), 'The trigger') },
        errors: namespaceErrors,
      }),
      put: operation({
        operationId: 'replaceTrigger',
        summary: `Replace a trigger ("secret": "${REDACTED}" keeps the stored secret; a trigger as read may be sent back edited)`,
        tag: 'triggers',
        requestBody: jsonBody(ref('TriggerReplacement')),
        responses: { 200: json(ref('Trigger'), 'Replaced') },
        errors: [...namespaceErrors, ...bodyErrors],
      }),
      patch: operation({
        operationId: 'patchTrigger',
        summary:
          'Change some fields of a trigger (JSON Merge Patch, RFC 7386; null removes a field), checked as a PUT and applied atomically',
        tag: 'triggers',
        requestBody: jsonBody(ref('TriggerPatch'), ['application/merge-patch+json', 'application/json']),
        responses: { 200: json(ref('Trigger'), 'Patched') },
        errors: [...namespaceErrors, 409, ...bodyErrors],
      }),
      delete: operation({
        operationId: 'deleteTrigger',
        summary: 'Delete a trigger',
        tag: 'triggers',
        responses: { 204: { description: 'Deleted' } },
        errors: namespaceErrors,
      }),
    },
    [`${trigger}/test`]: {
      parameters: [nsParameter, repoParameter, triggerIdParameter],
      post: operation({
        operationId: 'testTrigger',
        summary: 'Send one delivery now with a sample push (tag "test")',
        description:
          "At most TEST_DELIVERIES_PER_MINUTE (default 20) per token in any minute, counted across api replicas: past it, 429 with Retry-After and nothing sent. The delivery passes the worker's per-origin limit and circuit breaker like any other.",
        tag: 'triggers',
        responses: {
          200: json(ref('AccessRecord'), 'The delivery finished: its access-log record'),
          202: json(ref('PendingDelivery'), 'Queued; the worker did not report within the wait'),
        },
        errors: [...namespaceErrors, 429],
      }),
    },
    [`${trigger}/records/{recordId}/redeliver`]: {
      parameters: [nsParameter, repoParameter, triggerIdParameter, recordIdParameter],
      post: operation({
        operationId: 'redeliverRecord',
        summary: "A new delivery of the record's event to this trigger",
        description:
          'A record of another trigger answers 409 naming its trigger; an untriggered record (the tag did not match the filter) answers 409.',
        tag: 'triggers',
        responses: { 202: json(ref('Redelivery'), 'Queued') },
        errors: [...namespaceErrors, 409],
      }),
    },
    [`${trigger}/records/{recordId}/cancel`]: {
      parameters: [nsParameter, repoParameter, triggerIdParameter, recordIdParameter],
      post: operation({
        operationId: 'cancelDelivery',
        summary:
          'Stop the pending retries of the delivery of a retrying record: it ends with a failed record, statusCode CANCELLED',
        description:
          'Accepted only while no attempt is being sent: a cancel during an attempt waits for it to end (up to 15 s, then 409), and once accepted no attempt of the delivery is sent. A delivery that ended (succeeded, failed, cancelled) answers 409, as do a record of another trigger and an untriggered one.',
        tag: 'triggers',
        responses: {
          200: json(ref('AccessRecord'), 'Cancelled: the final record, as the access log holds it'),
        },
        errors: [...namespaceErrors, 409],
      }),
    },
    '/v1/events/push': {
      post: operation({
        operationId: 'postPushEvents',
        parameters: [traceparentParameter],
        summary: `Ingest one push event or an array of up to ${MAX_EVENTS_PER_REQUEST} (ingest or admin token; a namespace token for its own namespace)`,
        tag: 'events',
        security: eventSecurity,
        requestBody: jsonBody(ref('PushEvents')),
        responses: { 202: json(ref('PushResult'), 'Durably queued (duplicates counted, not queued)') },
        errors: [400, ...authErrors, ...bodyErrors],
      }),
    },
    '/v1/events/distribution': {
      post: operation({
        operationId: 'postDistributionEnvelope',
        parameters: [traceparentParameter],
        summary: 'Ingest a CNCF distribution notification envelope (tagged manifest pushes only)',
        tag: 'events',
        security: eventSecurity,
        requestBody: jsonBody(ref('DistributionEnvelope'), DISTRIBUTION_MEDIA_TYPES),
        responses: { 202: json(ref('DistributionResult'), 'Durably queued') },
        errors: [400, ...authErrors, ...bodyErrors],
      }),
    },
    ...sourcePaths(),
    ...logsPaths(),
  };
}

const CLOUDEVENT = 'application/cloudevents+json';
const CLOUDEVENT_BATCH = 'application/cloudevents-batch+json';

/** The registry routes (apps/api/src/sources): each one vendor's webhook body. */
const SOURCE_ROUTES: Array<{ source: string; summary: string; content: Record<string, string> }> = [
  {
    source: 'harbor',
    summary:
      'Ingest a Harbor webhook: the "Default" format (PUSH_ARTIFACT) or the "CloudEvents" one (Harbor 2.8+)',
    content: { 'application/json': 'HarborWebhook', [CLOUDEVENT]: 'CloudEvent' },
  },
  {
    source: 'dockerhub',
    summary: 'Ingest a Docker Hub repository webhook (no digest: delivered as "")',
    content: { 'application/json': 'DockerHubWebhook' },
  },
  {
    source: 'quay',
    summary: 'Ingest a Quay repo_push notification, one push per updated tag (no digest: delivered as "")',
    content: { 'application/json': 'QuayNotification' },
  },
  {
    source: 'azure',
    summary: 'Ingest an Azure Container Registry webhook (push; ping answered 200)',
    content: { 'application/json': 'AzureWebhook' },
  },
  {
    source: 'ecr',
    summary: 'Ingest an Amazon ECR "ECR Image Action" event as an EventBridge API destination posts it',
    content: { 'application/json': 'EventBridgeEvent' },
  },
  {
    source: 'gar',
    summary: 'Ingest a Google Artifact Registry notification as a Pub/Sub push subscription posts it',
    content: { 'application/json': 'PubSubPush' },
  },
  {
    source: 'cloudevents',
    summary:
      'Ingest CloudEvents 1.0: zotregistry.image.updated, harbor.artifact.pushed, dev.registry-triggers.push (other types ignored)',
    content: {
      [CLOUDEVENT]: 'CloudEvent',
      [CLOUDEVENT_BATCH]: 'CloudEventBatch',
      'application/json': 'CloudEvent',
    },
  },
];

const sourceParameters = queryParameters(sourceQuerySchema, {
  namespace:
    "Put every push of the request in this namespace, the source's whole repository path being the repository. Without it a path a/b/c is namespace a, repository b/c, and a one-segment path takes the namespace of a namespace token (else 400).",
});

function sourcePaths(): Record<string, JsonSchema> {
  return Object.fromEntries(
    SOURCE_ROUTES.map(({ source, summary, content }) => [
      `/v1/events/${source}`,
      {
        post: operation({
          operationId: `post${source.charAt(0).toUpperCase()}${source.slice(1)}Events`,
          summary,
          description:
            'Only pushes of a tag become events; other event types and untagged pushes are answered 202 and ' +
            'counted in `ignored`. A repository name, tag or digest outside the rules is 400 naming the ' +
            "source's field and value. The event id is the source's own (or a stable hash), so a resend " +
            'within 24 hours is a duplicate. The token may also be given as `?access_token=` (registries ' +
            'that cannot set a header).' +
            (source === 'cloudevents'
              ? ' Binary mode: ce-specversion, ce-id, ce-source and ce-type headers with the JSON data as the body.'
              : ''),
          tag: 'events',
          security: eventSecurity,
          parameters: sourceParameters,
          requestBody: {
            required: source !== 'azure',
            content: Object.fromEntries(
              Object.entries(content).map(([type, schema]) => [type, { schema: ref(schema) }]),
            ),
          },
          responses: {
            ...(source === 'azure'
              ? { 200: json(ref('DistributionResult'), 'A ping (action "ping", or no body): nothing taken') }
              : {}),
            202: json(ref('DistributionResult'), 'Durably queued'),
          },
          errors: [400, ...authErrors, ...bodyErrors],
        }),
      },
    ]),
  );
}

const recordErrors = [400, 401, 403, 404, 503];

const recordListParameters = queryParameters(recordQuerySchema, {
  status: 'Only records of this status.',
  reason: 'Only records with this reason (why a trigger did not fire, or a delivery ended unsent).',
  tag: 'Only records of this image tag.',
  since: 'Only records written at or after this time: epoch ms or ISO-8601 with an offset.',
  until: 'Only records written at or before this time: epoch ms or ISO-8601 with an offset.',
  limit: 'Records per page, 1 to 200.',
  cursor:
    'The `nextCursor` of the previous page, or any record id (`<ms>-<seq>`, each part below 2^64); the page holds the records older than it (none for `0-0`). Anything else answers 400 naming `cursor`.',
});

/** The routes of the logs app (apps/logs): the access log, its live tail and the console. */
function logsPaths(): Record<string, JsonSchema> {
  const repository = '/v1/namespaces/{ns}/repositories/{repo}';
  const listDescription = (scope: string) =>
    `${LOGS_APP} The records of ${scope}, newest first (the order they were written). Unknown query ` +
    'parameters and values that break a rule answer 400.';
  const list = (operationId: string, summary: string, scope: string) =>
    operation({
      operationId,
      summary,
      description: listDescription(scope),
      tag: 'access log',
      parameters: recordListParameters,
      responses: { 200: json(ref('RecordPage'), 'One page of records') },
      errors: recordErrors,
      problems: logsProblemResponses,
    });
  const staticFile = (operationId: string, summary: string, mediaType: string, errors: number[] = []) => ({
    servers: [logsServer],
    get: operation({
      operationId,
      summary,
      description: `${LOGS_APP} A file of the console; revalidate with its ETag.`,
      tag: 'web page',
      public: true,
      responses: {
        200: { description: summary, content: { [mediaType]: { schema: { type: 'string' } } } },
        304: { description: 'Not modified (If-None-Match)' },
      },
      errors,
    }),
  });
  return {
    [`${repository}/triggers/{id}/records`]: {
      servers: [logsServer],
      parameters: [nsParameter, repoParameter, triggerIdParameter],
      get: list('listTriggerRecords', 'Access-log records of one trigger', 'one trigger'),
    },
    [`${repository}/records`]: {
      servers: [logsServer],
      parameters: [nsParameter, repoParameter],
      get: list(
        'listRepositoryRecords',
        'Access-log records of a repository',
        'every trigger of the repository',
      ),
    },
    '/v1/namespaces/{ns}/records': {
      servers: [logsServer],
      parameters: [nsParameter],
      get: list(
        'listNamespaceRecords',
        'Access-log records of a namespace',
        'every repository of the namespace',
      ),
    },
    '/v1/namespaces/{ns}/records/{recordId}': {
      servers: [logsServer],
      parameters: [
        nsParameter,
        pathParameter(
          'recordId',
          { type: 'string', pattern: '^\\d{1,20}-\\d{1,20}$' },
          'An access-log record id; an id that is not one, or no longer in the log, answers 404.',
        ),
      ],
      get: operation({
        operationId: 'getRecord',
        summary: 'One access-log record',
        description: LOGS_APP,
        tag: 'access log',
        responses: { 200: json(ref('AccessRecord'), 'The record') },
        errors: recordErrors,
        problems: logsProblemResponses,
      }),
    },
    '/v1/namespaces/{ns}/records/stream': {
      servers: [logsServer],
      parameters: [nsParameter],
      get: operation({
        operationId: 'streamRecords',
        summary: 'Live tail: Server-Sent Events, one per new record of the namespace',
        description:
          `${LOGS_APP} Each record is one event of the default type (\`message\`: no \`event\` field): ` +
          '`id: <record id>`, `data: <the AccessRecord as JSON>`. The stream opens with `retry: 2000` and sends a `: keep-alive` ' +
          'comment every 15 s. Without Last-Event-ID it starts after the newest record; with it, after that ' +
          'record, so a reconnecting EventSource misses nothing still in the log. A namespace token gets at most ' +
          'LOGS_MAX_STREAMS_PER_NAMESPACE streams of its namespace open at once (default 10; more answer 429), and the process ' +
          'LOGS_MAX_STREAMS (default 100; more answer 503). A client that stops reading is cut off once more than ' +
          'LOGS_STREAM_BUFFER_BYTES (default 1 MiB) wait for it; it reconnects with Last-Event-ID.',
        tag: 'access log',
        parameters: [
          {
            name: 'Last-Event-ID',
            in: 'header',
            required: false,
            description: 'Resume after this record id (EventSource sends it when it reconnects).',
            schema: { type: 'string', pattern: '^\\d{1,20}-\\d{1,20}$' },
          },
          {
            name: 'lastEventId',
            in: 'query',
            required: false,
            description:
              'The same as Last-Event-ID, for a first connection; the header wins when both are given.',
            schema: { type: 'string', pattern: '^\\d{1,20}-\\d{1,20}$' },
          },
        ],
        responses: {
          200: {
            description: 'An endless text/event-stream of records',
            content: {
              'text/event-stream': {
                schema: {
                  type: 'string',
                  description:
                    'Server-Sent Events; the data of each `record` event is an AccessRecord (#/components/schemas/AccessRecord) as JSON.',
                },
              },
            },
          },
        },
        errors: [...recordErrors, 429],
        problems: logsProblemResponses,
      }),
    },
    '/': {
      servers: [logsServer],
      get: operation({
        operationId: 'getLogsPage',
        summary: 'The console: sign in with a token and manage namespaces, triggers, records and tokens',
        description:
          `${LOGS_APP} Plain ES modules that call the routes of this document from the browser, the api's ` +
          'through the logs app when CONSOLE_API_URL is set. Deep links: ?ns=&repo=&trigger=&record=&status=.',
        tag: 'web page',
        public: true,
        responses: {
          200: { description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } },
          304: { description: 'Not modified (If-None-Match)' },
        },
        errors: [],
      }),
    },
    '/index.html': staticFile('getLogsPageIndex', 'The page (the same as /)', 'text/html'),
    '/js/{module}': {
      ...staticFile('getLogsPageModule', 'One ES module of the console', 'text/javascript', [404]),
      parameters: [
        pathParameter(
          'module',
          { type: 'string', pattern: '^[a-z][a-z-]*\\.js$' },
          'A module file name.',
          'main.js',
        ),
      ],
    },
    '/app.css': staticFile('getLogsPageStyle', 'The style sheet of the page', 'text/css'),
  };
}

function buildDocument() {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Registry Triggers API',
      version: '0.1.0',
      description:
        'Alibaba Cloud Container Registry style triggers for any registry. Two apps serve the contract: the api ' +
        '(API_PORT, default 8080) and the logs app (LOGS_PORT, default 8081), which serves the access log, its ' +
        'live tail and the web console; each path item served by one app only names it in `servers`, and both apps ' +
        'serve this document at /openapi.json. With CONSOLE_API_URL set, the logs app forwards every /v1 route it ' +
        "does not serve to the api, so the console's origin reaches them all. Errors are application/problem+json (RFC 9457).",
    },
    servers: [apiServer],
    tags: [
      { name: 'health' },
      { name: 'tokens' },
      { name: 'namespaces' },
      { name: 'repositories' },
      { name: 'triggers' },
      { name: 'events' },
      { name: 'access log', description: 'The logs app: records, their live tail.' },
      { name: 'web page', description: 'The logs app: the console.' },
    ],
    security: [{ bearer: [] }],
    paths: paths(),
    components: {
      securitySchemes: {
        accessToken: {
          type: 'apiKey',
          in: 'query',
          name: 'access_token',
          description:
            'The same tokens as bearer, as a query parameter (RFC 6750 section 2.3), on POST /v1/events/* only, for registries that cannot set a header; never logged.',
        },
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'ADMIN_TOKEN, INGEST_TOKEN (events only; each setting may list several, comma-separated) or a namespace token, whose scope is admin (every right in its namespace), read (every GET of it) or ingest (POST /v1/events/* for it).',
        },
      },
      schemas: { ...generatedSchemas(), ...handWrittenSchemas },
      responses: responseComponents(),
    },
  };
}

export type OpenApiDocument = ReturnType<typeof buildDocument>;

let cached: string | undefined;

/** The document as a fresh object (callers may not share and mutate one). */
export function openApiDocument(): OpenApiDocument {
  cached ??= JSON.stringify(buildDocument());
  return JSON.parse(cached) as OpenApiDocument;
}
