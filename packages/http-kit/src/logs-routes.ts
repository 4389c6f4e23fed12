/**
 * The logs app's routes (apps/logs): the access log, its live tail and the console, declared
 * once; the app mounts its handlers on them, openapi.ts documents them.
 */
import {
  type JsonSchema,
  json,
  LOGS_APP,
  logsProblemResponses,
  nsParameter,
  pathParameter,
  queryParameters,
  ref,
  repoParameter,
  triggerIdParameter,
} from './openapi-parts.js';
import { recordQuerySchema } from './request-schemas.js';
import { defineRoute, type RouteCaller, type RouteSpec } from './route-table.js';

/** Every GET inside a namespace: the global admin, a namespace's admin and read tokens. */
const READERS: RouteCaller[] = ['admin-token', 'admin', 'read'];
const LOGS = ['logs'] as const;

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

const repository = '/v1/namespaces/{ns}/repositories/{repo}';
const listDescription = (scope: string) =>
  `${LOGS_APP} The records of ${scope}, newest first (the order they were written). Unknown query ` +
  'parameters and values that break a rule answer 400.';
const list = (
  path: string,
  pathParameters: JsonSchema[],
  operationId: string,
  summary: string,
  scope: string,
) =>
  defineRoute({
    method: 'GET',
    path,
    apps: LOGS,
    callers: READERS,
    pathParameters,
    operationId,
    summary,
    description: listDescription(scope),
    tag: 'access log',
    parameters: recordListParameters,
    responses: { 200: json(ref('RecordPage'), 'One page of records') },
    errors: recordErrors,
    problems: logsProblemResponses,
  });
const staticFile = (
  path: string,
  operationId: string,
  summary: string,
  mediaType: string,
  errors: number[] = [],
  pathParameters?: RouteSpec['pathParameters'],
) =>
  defineRoute({
    method: 'GET',
    path,
    apps: LOGS,
    callers: [],
    ...(pathParameters ? { pathParameters } : {}),
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
  });

export const logsRoutes: RouteSpec[] = [
  list(
    `${repository}/triggers/{id}/records`,
    [nsParameter, repoParameter, triggerIdParameter],
    'listTriggerRecords',
    'Access-log records of one trigger',
    'one trigger',
  ),
  list(
    `${repository}/records`,
    [nsParameter, repoParameter],
    'listRepositoryRecords',
    'Access-log records of a repository',
    'every trigger of the repository',
  ),
  list(
    '/v1/namespaces/{ns}/records',
    [nsParameter],
    'listNamespaceRecords',
    'Access-log records of a namespace',
    'every repository of the namespace',
  ),
  defineRoute({
    method: 'GET',
    path: '/v1/namespaces/{ns}/records/{recordId}',
    apps: LOGS,
    callers: READERS,
    pathParameters: [
      nsParameter,
      pathParameter(
        'recordId',
        { type: 'string', pattern: '^\\d{1,20}-\\d{1,20}$' },
        'An access-log record id; an id that is not one, or no longer in the log, answers 404.',
      ),
    ],
    operationId: 'getRecord',
    summary: 'One access-log record',
    description: LOGS_APP,
    tag: 'access log',
    responses: { 200: json(ref('AccessRecord'), 'The record') },
    errors: recordErrors,
    problems: logsProblemResponses,
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/namespaces/{ns}/records/stream',
    apps: LOGS,
    callers: READERS,
    pathParameters: [nsParameter],
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
  defineRoute({
    method: 'GET',
    path: '/',
    apps: LOGS,
    callers: [],
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
  staticFile('/index.html', 'getLogsPageIndex', 'The page (the same as /)', 'text/html'),
  staticFile(
    '/js/{module}',
    'getLogsPageModule',
    'One ES module of the console',
    'text/javascript',
    [404],
    [
      pathParameter(
        'module',
        { type: 'string', pattern: '^[a-z][a-z-]*\\.js$' },
        'A module file name.',
        'main.js',
      ),
    ],
  ),
  staticFile('/app.css', 'getLogsPageStyle', 'The style sheet of the page', 'text/css'),
];
