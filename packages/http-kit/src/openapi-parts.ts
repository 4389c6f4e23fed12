/**
 * The pieces the route tables (api-routes.ts, logs-routes.ts) describe their operations with:
 * parameters, problem responses, servers, and `operation()`, which makes an OpenAPI 3.1
 * operation object of a route.
 */
import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

export interface ProblemResponse {
  name: string;
  description: string;
  headers?: JsonSchema;
}

export const problemResponses: Record<number, ProblemResponse> = {
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
export const logsProblemResponses: Record<number, ProblemResponse> = {
  ...problemResponses,
  503: {
    name: 'LogsUnavailable',
    description:
      'Redis is unreachable, or (live tail) the process has LOGS_MAX_STREAMS streams open; retry after the given number of seconds.',
    headers: { 'Retry-After': { schema: { type: 'integer' } } },
  },
};

export function responseComponents(): Record<string, JsonSchema> {
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

export const json = (schema: JsonSchema, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const jsonBody = (schema: JsonSchema, mediaTypes = ['application/json']) => ({
  required: true,
  content: Object.fromEntries(mediaTypes.map((type) => [type, { schema }])),
});

export interface OperationSpec {
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
export const requestIdParameter = {
  name: 'X-Request-Id',
  in: 'header',
  required: false,
  description: REQUEST_ID_DESCRIPTION,
  schema: { type: 'string', pattern: '^[A-Za-z0-9._:/+=@-]{1,128}$' },
};
export const traceparentParameter = {
  name: 'traceparent',
  in: 'header',
  required: false,
  description:
    'W3C trace context of the caller: with tracing on (OTEL_EXPORTER_OTLP_ENDPOINT), the ingest span continues its trace, and the deliveries of the events are its descendants.',
  schema: { type: 'string', pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$' },
};
export const requestIdHeader = { description: REQUEST_ID_DESCRIPTION, schema: { type: 'string' } };

export function operation(spec: OperationSpec): JsonSchema {
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

export const pathParameter = (name: string, schema: JsonSchema, description: string, example?: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema,
  ...(example ? { example } : {}),
});

export const nsParameter = pathParameter(
  'ns',
  ref('NamespaceName'),
  'The namespace (the first segment).',
  'myns',
);
export const repoParameter = pathParameter(
  'repo',
  ref('RepositoryName'),
  'The repository inside the namespace. It may hold further "/" segments: send each "/" URL-encoded as %2F ' +
    '(team/app is sent as team%2Fapp), which simple-style path serialization does.',
  'team/app',
);
export const tokenIdParameter = pathParameter(
  'tokenId',
  { type: 'string', pattern: '^[0-9a-f]{24}$' },
  'The token id (as listed).',
);
export const triggerIdParameter = pathParameter('id', { type: 'string', maxLength: 100 }, 'The trigger id.');
export const recordIdParameter = pathParameter(
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
export const apiServer = serverOn('8080', 'api app (API_PORT, default 8080)');
export const logsServer = serverOn('8081', 'logs app (LOGS_PORT, default 8081)');
export const BOTH_APPS = 'Served by both the api app and the logs app.';
export const LOGS_APP = 'Served by the logs app (LOGS_PORT, default 8081), not by the api app.';

// Every /v1 route authenticates (a namespace token is looked up in Redis) and can meet an outage.
export const authErrors = [401, 403, 503];
/** POST /v1/events/* also take the token as `?access_token=`. */
export const eventSecurity = [{ bearer: [] }, { accessToken: [] }];
export const namespaceErrors = [400, 401, 403, 404, 503];
export const bodyErrors = [413, 415];

/** One query parameter per property of a zod object schema that parses a query. */
export function queryParameters(schema: z.ZodObject, descriptions: Record<string, string>): JsonSchema[] {
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
