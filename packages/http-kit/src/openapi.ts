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
import { apiRoutes, sharedRoutes } from './api-routes.js';
import { logsRoutes } from './logs-routes.js';
import {
  apiServer,
  BOTH_APPS,
  type JsonSchema,
  logsServer,
  operation,
  ref,
  responseComponents,
} from './openapi-parts.js';
import {
  distributionEnvelopeSchema,
  pushEventSchema,
  pushEventsBodySchema,
  repositoryBodySchema,
  tokenInputSchema,
  tokenRotationSchema,
} from './request-schemas.js';
import { type RouteSpec, routeKey } from './route-table.js';
import {
  azureWebhookSchema,
  cloudEventBatchSchema,
  cloudEventSchema,
  dockerHubWebhookSchema,
  eventBridgeEventSchema,
  harborWebhookSchema,
  pubSubPushSchema,
  quayNotificationSchema,
} from './source-schemas.js';

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
      'Why the trigger did not fire (untriggered: filter, artifact-tag, same-digest), why its delivery ended without a request (failed: disabled, trigger-deleted, worker-lost, cancelled; superseded: superseded), or what held an attempt back before it went (rate-limited, ordered); absent otherwise.',
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
      queues: {
        type: 'object',
        required: ['partitions', 'source'],
        description:
          'api (and worker): the queue partitions this process uses and where the count came from; on a Redis Cluster also the masters owning slots now and how many of them hold a partition (docs/cluster.md)',
        properties: {
          partitions: { type: 'integer', minimum: 1 },
          source: { type: 'string', enum: ['QUEUE_PARTITIONS', 'recorded', 'masters', 'single server'] },
          masters: { type: 'integer', minimum: 0 },
          mastersWithPartitions: { type: 'integer', minimum: 0 },
          recorded: {
            type: 'integer',
            description:
              "the cluster's recorded count, only when it differs from this process's (a warning says so)",
          },
        },
      },
      warnings: { type: 'array', items: { type: 'string' } },
    },
  },
};

/** The path items of the route table, in its order: a path served by the logs app names it in `servers`. */
function paths(table: readonly RouteSpec[]): Record<string, JsonSchema> {
  const items: Record<string, JsonSchema> = {};
  for (const route of table) {
    const both = route.apps.includes('api') && route.apps.includes('logs');
    const own: JsonSchema = {
      ...(both ? { servers: [apiServer, logsServer], description: BOTH_APPS } : {}),
      ...(!route.apps.includes('api') ? { servers: [logsServer] } : {}),
      ...(route.pathParameters ? { parameters: route.pathParameters } : {}),
    };
    const item = items[route.path] ?? own;
    items[route.path] = item;
    const shared = { servers: item.servers, description: item.description, parameters: item.parameters };
    const declared = { servers: own.servers, description: own.description, parameters: own.parameters };
    if (JSON.stringify(shared) !== JSON.stringify(declared))
      throw new Error(`${routeKey(route)}: the routes of one path declare different servers or parameters`);
    if (item[route.method.toLowerCase()]) throw new Error(`${routeKey(route)} is declared twice`);
    item[route.method.toLowerCase()] = operation(route);
  }
  return items;
}

/** Every route of the contract: what both apps serve, the api's, the logs app's. */
export const routeTable: readonly RouteSpec[] = [...sharedRoutes, ...apiRoutes, ...logsRoutes];

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
    paths: paths(routeTable),
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
