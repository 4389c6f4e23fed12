/**
 * The api app's routes (and the ones both apps serve), declared once: apps/api mounts its
 * handlers on them, openapi.ts documents them.
 */
import { MAX_CA_BUNDLE_BYTES, REDACTED } from '@registry-triggers/core';
import {
  authErrors,
  bodyErrors,
  eventSecurity,
  json,
  jsonBody,
  namespaceErrors,
  nsParameter,
  queryParameters,
  recordIdParameter,
  ref,
  repoParameter,
  tokenIdParameter,
  traceparentParameter,
  triggerIdParameter,
} from './openapi-parts.js';
import { DISTRIBUTION_MEDIA_TYPES, MAX_EVENTS_PER_REQUEST } from './request-schemas.js';
import { defineRoute, type RouteCaller, type RouteSpec } from './route-table.js';
import { sourceQuerySchema } from './source-schemas.js';

/** POST /v1/events/*: the global tokens, a namespace's admin and ingest tokens. */
const EVENT_CALLERS: RouteCaller[] = ['admin-token', 'ingest-token', 'admin', 'ingest'];
/** Every GET inside a namespace. */
const READERS: RouteCaller[] = ['admin-token', 'admin', 'read'];
/** Writes inside a namespace, and its tokens. */
const NAMESPACE_ADMINS: RouteCaller[] = ['admin-token', 'admin'];

const repository = '/v1/namespaces/{ns}/repositories/{repo}';
const triggers = `${repository}/triggers`;
const trigger = `${triggers}/{id}`;

/** Served by both apps: health, metrics and this document. */
export const sharedRoutes: RouteSpec[] = [
  defineRoute({
    method: 'GET',
    path: '/healthz',
    callers: [],
    apps: ['api', 'logs'],
    operationId: 'getHealth',
    summary: 'The process runs (always 200)',
    tag: 'health',
    public: true,
    responses: { 200: json(ref('Health'), 'Alive') },
    errors: [],
  }),
  defineRoute({
    method: 'GET',
    path: '/readyz',
    callers: [],
    apps: ['api', 'logs'],
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
  defineRoute({
    method: 'GET',
    path: '/metrics',
    callers: [],
    apps: ['api', 'logs'],
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
  defineRoute({
    method: 'GET',
    path: '/openapi.json',
    callers: [],
    apps: ['api', 'logs'],
    operationId: 'getOpenApi',
    summary: 'This document (the api and the logs app serve the same one)',
    tag: 'health',
    public: true,
    responses: { 200: json({ type: 'object' }, 'OpenAPI 3.1 document') },
    errors: [],
  }),
];

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

function sourceRoutes(): RouteSpec[] {
  return SOURCE_ROUTES.map(({ source, summary, content }) =>
    defineRoute({
      method: 'POST',
      path: `/v1/events/${source}`,
      callers: EVENT_CALLERS,
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
  );
}

export const apiRoutes: RouteSpec[] = [
  defineRoute({
    method: 'GET',
    path: '/v1/namespaces',
    callers: ['admin-token'],
    operationId: 'listNamespaces',
    summary: 'The namespaces with a repository or a token, with repository and trigger counts (admin only)',
    tag: 'tokens',
    responses: { 200: json(ref('NamespaceList'), 'The namespaces, in name order') },
    errors: authErrors,
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/namespaces/{ns}/tokens',
    callers: NAMESPACE_ADMINS,
    pathParameters: [nsParameter],
    operationId: 'issueNamespaceToken',
    summary:
      'Issue a token of the namespace (the admin, or an admin token of the namespace); the body is optional',
    tag: 'tokens',
    requestBody: { ...jsonBody(ref('TokenInput')), required: false },
    responses: { 201: json(ref('IssuedToken'), 'The token, shown once') },
    errors: [...namespaceErrors, ...bodyErrors],
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/namespaces/{ns}/tokens',
    callers: NAMESPACE_ADMINS,
    pathParameters: [nsParameter],
    operationId: 'listNamespaceTokens',
    summary: 'The tokens of the namespace that still work, without their secrets, oldest first',
    tag: 'tokens',
    responses: { 200: json(ref('TokenList'), 'The tokens') },
    errors: namespaceErrors,
  }),
  defineRoute({
    method: 'DELETE',
    path: '/v1/namespaces/{ns}/tokens/{tokenId}',
    callers: NAMESPACE_ADMINS,
    pathParameters: [nsParameter, tokenIdParameter],
    operationId: 'revokeNamespaceToken',
    summary: 'Revoke a token: every app refuses it within a second, open streams included',
    tag: 'tokens',
    responses: { 204: { description: 'Revoked' } },
    errors: namespaceErrors,
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/namespaces/{ns}/tokens/{tokenId}/rotate',
    callers: NAMESPACE_ADMINS,
    pathParameters: [nsParameter, tokenIdParameter],
    operationId: 'rotateNamespaceToken',
    summary:
      'A new token of the same name, scope and expiry; the old one works for graceSeconds more (default 0), then stops',
    tag: 'tokens',
    requestBody: { ...jsonBody(ref('TokenRotation')), required: false },
    responses: { 201: json(ref('IssuedToken'), 'The new token, shown once') },
    errors: [...namespaceErrors, ...bodyErrors],
  }),
  defineRoute({
    method: 'PUT',
    path: '/v1/namespaces/{ns}/ca-bundle',
    callers: NAMESPACE_ADMINS,
    pathParameters: [nsParameter],
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
  defineRoute({
    method: 'GET',
    path: '/v1/namespaces/{ns}/ca-bundle',
    callers: READERS,
    pathParameters: [nsParameter],
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
  defineRoute({
    method: 'DELETE',
    path: '/v1/namespaces/{ns}/ca-bundle',
    callers: NAMESPACE_ADMINS,
    pathParameters: [nsParameter],
    operationId: 'deleteCaBundle',
    summary: 'Remove the bundle: HTTPS deliveries of the namespace trust the standard CAs only again',
    tag: 'namespaces',
    responses: { 204: { description: 'Removed' } },
    errors: namespaceErrors,
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/namespaces/{ns}/repositories',
    callers: READERS,
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
  defineRoute({
    method: 'PUT',
    path: repository,
    callers: NAMESPACE_ADMINS,
    pathParameters: [nsParameter, repoParameter],
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
  defineRoute({
    method: 'GET',
    path: repository,
    callers: READERS,
    pathParameters: [nsParameter, repoParameter],
    operationId: 'getRepository',
    summary: 'One repository',
    tag: 'repositories',
    responses: { 200: json(ref('Repository'), 'The repository') },
    errors: namespaceErrors,
  }),
  defineRoute({
    method: 'DELETE',
    path: repository,
    callers: NAMESPACE_ADMINS,
    pathParameters: [nsParameter, repoParameter],
    operationId: 'deleteRepository',
    summary:
      'Delete a repository and its triggers: they stop at once (queued deliveries end failed TRIGGER_DELETED); its records stay until retention',
    tag: 'repositories',
    responses: { 204: { description: 'Deleted' } },
    errors: namespaceErrors,
  }),
  defineRoute({
    method: 'POST',
    path: triggers,
    callers: NAMESPACE_ADMINS,
    pathParameters: [nsParameter, repoParameter],
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
  defineRoute({
    method: 'GET',
    path: triggers,
    callers: READERS,
    pathParameters: [nsParameter, repoParameter],
    operationId: 'listTriggers',
    summary: 'Triggers of a repository, oldest first',
    tag: 'triggers',
    responses: { 200: json(ref('TriggerList'), 'The triggers') },
    errors: namespaceErrors,
  }),
  defineRoute({
    method: 'GET',
    path: trigger,
    callers: READERS,
    pathParameters: [nsParameter, repoParameter, triggerIdParameter],
    operationId: 'getTrigger',
    summary: 'One trigger',
    tag: 'triggers',
    responses: { 200: json(ref('Trigger'), 'The trigger') },
    errors: namespaceErrors,
  }),
  defineRoute({
    method: 'PUT',
    path: trigger,
    callers: NAMESPACE_ADMINS,
    pathParameters: [nsParameter, repoParameter, triggerIdParameter],
    operationId: 'replaceTrigger',
    summary: `Replace a trigger ("secret": "${REDACTED}" keeps the stored secret; a trigger as read may be sent back edited)`,
    tag: 'triggers',
    requestBody: jsonBody(ref('TriggerReplacement')),
    responses: { 200: json(ref('Trigger'), 'Replaced') },
    errors: [...namespaceErrors, ...bodyErrors],
  }),
  defineRoute({
    method: 'PATCH',
    path: trigger,
    callers: NAMESPACE_ADMINS,
    pathParameters: [nsParameter, repoParameter, triggerIdParameter],
    operationId: 'patchTrigger',
    summary:
      'Change some fields of a trigger (JSON Merge Patch, RFC 7386; null removes a field), checked as a PUT and applied atomically',
    tag: 'triggers',
    requestBody: jsonBody(ref('TriggerPatch'), ['application/merge-patch+json', 'application/json']),
    responses: { 200: json(ref('Trigger'), 'Patched') },
    errors: [...namespaceErrors, 409, ...bodyErrors],
  }),
  defineRoute({
    method: 'DELETE',
    path: trigger,
    callers: NAMESPACE_ADMINS,
    pathParameters: [nsParameter, repoParameter, triggerIdParameter],
    operationId: 'deleteTrigger',
    summary: 'Delete a trigger',
    tag: 'triggers',
    responses: { 204: { description: 'Deleted' } },
    errors: namespaceErrors,
  }),
  defineRoute({
    method: 'POST',
    path: `${trigger}/test`,
    callers: NAMESPACE_ADMINS,
    pathParameters: [nsParameter, repoParameter, triggerIdParameter],
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
  defineRoute({
    method: 'POST',
    path: `${trigger}/records/{recordId}/redeliver`,
    callers: NAMESPACE_ADMINS,
    pathParameters: [nsParameter, repoParameter, triggerIdParameter, recordIdParameter],
    operationId: 'redeliverRecord',
    summary: "A new delivery of the record's event to this trigger",
    description:
      'A record of another trigger answers 409 naming its trigger; an untriggered record (the tag did not match the filter) answers 409.',
    tag: 'triggers',
    responses: { 202: json(ref('Redelivery'), 'Queued') },
    errors: [...namespaceErrors, 409],
  }),
  defineRoute({
    method: 'POST',
    path: `${trigger}/records/{recordId}/cancel`,
    callers: NAMESPACE_ADMINS,
    pathParameters: [nsParameter, repoParameter, triggerIdParameter, recordIdParameter],
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
  defineRoute({
    method: 'POST',
    path: '/v1/events/push',
    callers: EVENT_CALLERS,
    operationId: 'postPushEvents',
    parameters: [traceparentParameter],
    summary: `Ingest one push event or an array of up to ${MAX_EVENTS_PER_REQUEST} (ingest or admin token; a namespace token for its own namespace)`,
    tag: 'events',
    security: eventSecurity,
    requestBody: jsonBody(ref('PushEvents')),
    responses: { 202: json(ref('PushResult'), 'Durably queued (duplicates counted, not queued)') },
    errors: [400, ...authErrors, ...bodyErrors],
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/events/distribution',
    callers: EVENT_CALLERS,
    operationId: 'postDistributionEnvelope',
    parameters: [traceparentParameter],
    summary: 'Ingest a CNCF distribution notification envelope (tagged manifest pushes only)',
    tag: 'events',
    security: eventSecurity,
    requestBody: jsonBody(ref('DistributionEnvelope'), DISTRIBUTION_MEDIA_TYPES),
    responses: { 202: json(ref('DistributionResult'), 'Durably queued') },
    errors: [400, ...authErrors, ...bodyErrors],
  }),
  ...sourceRoutes(),
];
