/**
 * Builds the api in-process exactly as main.ts wires it (real Redis connection, queues,
 * delivery requests, record store), listening on a free loopback port, and calls it over
 * real HTTP. Each test file starts its own Redis, so files never see each other's keys.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Tracer } from '@opentelemetry/api';
import { closeServer, createLogger, listen } from '@registry-triggers/http-kit';
import {
  keys,
  type PushEventJob,
  type QueueName,
  type RecordStore,
  type RedisConnection,
} from '@registry-triggers/store';
import { type RedisHandle, withTimeout } from '@registry-triggers/testing';
import { Queue } from 'bullmq';
import type { Express } from 'express';
import { Redis } from 'ioredis';
import { apiEnvSchema } from '../../src/env.js';
import { createApiRuntime } from '../../src/runtime.js';

export interface ApiHarnessOptions {
  triggersPerRepository?: number;
  /** REPOSITORIES_PER_NAMESPACE / TRIGGERS_PER_NAMESPACE; the api's defaults unless given. */
  repositoriesPerNamespace?: number;
  triggersPerNamespace?: number;
  maxBodyBytes?: number;
  /** How long `POST .../test` waits for a worker before answering 202 pending. */
  testDeliveryWaitMs?: number;
  /** TEST_DELIVERIES_PER_MINUTE; 1000 unless the suite is about the limit, so suites never meet it. */
  testDeliveriesPerMinute?: number;
  /** REDIS_COMMAND_TIMEOUT_MS; 5000 unless the suite is about timing (the api's default is 500). */
  commandTimeoutMs?: number;
  /** INGEST_DEADLINE_MS; 10000 unless the suite is about timing, as for the command timeout. */
  ingestDeadlineMs?: number;
  /** MAX_EVENTS_PER_ENVELOPE; the api's default unless given. */
  maxEnvelopeEvents?: number;
  /** The ingest spans' tracer (the api's is a no-op one unless tracing is on). */
  tracer?: Tracer;
}

export interface RequestOptions {
  token?: string | undefined;
  /** A value to send as JSON (stringified), or a string / bytes sent as they are. */
  body?: unknown;
  /** Defaults to application/json when a body is given. `null` sends no Content-Type. */
  contentType?: string | null;
  headers?: Record<string, string>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body when it is JSON of any flavour. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever shape the route answered
  body: any;
  elapsedMs: number;
}

/** One line of the api's JSON log. */
// biome-ignore lint/suspicious/noExplicitAny: fields differ per line; suites assert them one by one
export type LogLine = Record<string, any>;

export interface ApiHarness {
  readonly baseUrl: string;
  readonly adminToken: string;
  readonly ingestToken: string;
  readonly app: Express;
  readonly redis: RedisConnection;
  readonly records: RecordStore;
  request(method: string, path: string, options?: RequestOptions): Promise<ApiResponse>;
  /** A namespace token issued through the api by the admin. */
  issueToken(namespace: string): Promise<string>;
  /** What the api logged at warn level and above, oldest first. */
  readonly logged: readonly LogLine[];
  /** A BullMQ Queue on its own connection, to look at what the api enqueued. */
  inspectQueue<T = PushEventJob>(name: QueueName): Queue<T>;
  close(): Promise<void>;
}

/** The default of one of the api's numeric settings, as the api would read it unset. */
export const defaultOf = (setting: keyof typeof apiEnvSchema.shape): number =>
  apiEnvSchema.shape[setting].parse(undefined) as number;

const secretToken = (label: string) => `${label}-${randomBytes(18).toString('base64url')}`;

export async function startApi(
  redisServer: RedisHandle,
  options: ApiHarnessOptions = {},
): Promise<ApiHarness> {
  const env = {
    REDIS_URL: redisServer.url,
    ADMIN_TOKEN: secretToken('admin'),
    INGEST_TOKEN: secretToken('ingest'),
    TRIGGERS_PER_REPOSITORY: options.triggersPerRepository ?? 100,
    MAX_BODY_BYTES: options.maxBodyBytes ?? 5 * 1024 * 1024,
    TEST_DELIVERIES_PER_MINUTE: options.testDeliveriesPerMinute ?? 1000,
    REPOSITORIES_PER_NAMESPACE: options.repositoriesPerNamespace ?? defaultOf('REPOSITORIES_PER_NAMESPACE'),
    TRIGGERS_PER_NAMESPACE: options.triggersPerNamespace ?? defaultOf('TRIGGERS_PER_NAMESPACE'),
    INGEST_DEADLINE_MS: options.ingestDeadlineMs ?? 10_000,
    MAX_EVENTS_PER_ENVELOPE:
      options.maxEnvelopeEvents ?? apiEnvSchema.shape.MAX_EVENTS_PER_ENVELOPE.parse(undefined),
  };
  const logged: LogLine[] = [];
  // Warnings and errors are kept for the suites to read; nothing reaches the test output.
  const logger = createLogger('api', 'warn', { write: (line: string) => logged.push(JSON.parse(line)) });
  // The api's own wiring (runtime.ts), as main.ts starts it.
  const runtime = await createApiRuntime({
    env: {
      ...env,
      QUEUE_PARTITIONS: 1,
      // Suites that are not about timing get a generous command timeout: on a loaded CI machine
      // the api's 500 ms default turns a healthy but slow Redis into 503s. The outage suite sets
      // the real default explicitly.
      REDIS_COMMAND_TIMEOUT_MS: options.commandTimeoutMs ?? 5000,
      TEST_DELIVERY_WAIT_MS: options.testDeliveryWaitMs ?? 2000,
    },
    logger,
    tracer: options.tracer,
    connectionName: 'api-test',
  });
  const { app, redis, pushEvents, deliveries, deliveryRequests, records } = runtime;
  // A fail-fast connection answers 503 until it is connected; the suites start once it is,
  // as a deployment routes traffic only once /readyz says so.
  if (redis.status !== 'ready')
    await withTimeout(
      new Promise((resolve) => redis.once('ready', resolve)),
      10_000,
      'the api connection to Redis',
    );
  const opened: Array<{ disconnect(): void }> = [runtime];
  for (const queue of [...pushEvents.partitions, ...deliveries.partitions]) queue.on('error', () => {});
  const server: Server = await listen(app, 0, '127.0.0.1');
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const inspectors: Array<Queue<unknown>> = [];

  const request = async (method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse> => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    let body: string | Uint8Array | undefined;
    if (opts.body !== undefined) {
      body =
        typeof opts.body === 'string' || opts.body instanceof Uint8Array
          ? opts.body
          : JSON.stringify(opts.body);
      if (opts.contentType !== null) headers['content-type'] = opts.contentType ?? 'application/json';
    } else if (opts.contentType) {
      headers['content-type'] = opts.contentType;
    }
    const started = performance.now();
    const response = await fetch(`${baseUrl}${path}`, { method, headers, ...(body ? { body } : {}) });
    const text = await response.text();
    const elapsedMs = performance.now() - started;
    const type = response.headers.get('content-type') ?? '';
    let parsed: unknown;
    if (/[/+]json\b/.test(type) && text.length > 0) parsed = JSON.parse(text);
    return { status: response.status, headers: response.headers, text, body: parsed, elapsedMs };
  };

  return {
    baseUrl,
    adminToken: env.ADMIN_TOKEN,
    ingestToken: env.INGEST_TOKEN,
    app,
    redis,
    records,
    logged,
    request,
    async issueToken(namespace) {
      const response = await request('POST', `/v1/namespaces/${namespace}/tokens`, {
        token: env.ADMIN_TOKEN,
      });
      if (response.status !== 201)
        throw new Error(`token for ${namespace}: ${response.status} ${response.text}`);
      return response.body.token as string;
    },
    inspectQueue<T>(name: QueueName) {
      const connection = new Redis(redisServer.url, { maxRetriesPerRequest: null });
      connection.on('error', () => {});
      opened.push(connection);
      const queue = new Queue<T>(name, { connection, prefix: keys.queuePrefix(name, 0) });
      queue.on('error', () => {});
      inspectors.push(queue as Queue<unknown>);
      return queue;
    },
    async close() {
      await closeServer(server);
      // Closing BullMQ objects talks to Redis; after an outage test it may be gone, so bound it.
      await Promise.race([
        Promise.allSettled([
          deliveryRequests.close(),
          pushEvents.close(),
          deliveries.close(),
          ...inspectors.map((queue) => queue.close()),
        ]),
        new Promise((resolve) => setTimeout(resolve, 2000).unref()),
      ]);
      for (const connection of opened) connection.disconnect();
    },
  };
}

/** A well-formed digest, different for each seed. */
export function digestOf(seed: string | number): string {
  const hex = Buffer.from(String(seed)).toString('hex').padEnd(64, '0').slice(0, 64);
  return `sha256:${hex}`;
}

/** Asserts the RFC 9457 shape every error of the api has, and returns the body. */
export function expectProblemShape(response: ApiResponse, status: number) {
  const problem = response.body;
  const issues: string[] = [];
  if (response.status !== status) issues.push(`status ${response.status}, expected ${status}`);
  if (!response.headers.get('content-type')?.startsWith('application/problem+json'))
    issues.push(`content-type ${response.headers.get('content-type')}`);
  if (typeof problem !== 'object' || problem === null) issues.push('no JSON body');
  else {
    if (typeof problem.type !== 'string' || !/^https?:\/\//.test(problem.type)) issues.push('type');
    if (typeof problem.title !== 'string' || problem.title.length === 0) issues.push('title');
    if (problem.status !== status) issues.push(`body status ${problem.status}`);
    if (typeof problem.detail !== 'string' || problem.detail.length === 0) issues.push('detail');
    if (
      problem.errors !== undefined &&
      !(
        Array.isArray(problem.errors) &&
        problem.errors.every(
          (e: { path?: unknown; message?: unknown }) =>
            typeof e.path === 'string' && typeof e.message === 'string',
        )
      )
    )
      issues.push('errors');
  }
  if (issues.length > 0) throw new Error(`not a ${status} problem (${issues.join(', ')}): ${response.text}`);
  return problem as {
    type: string;
    title: string;
    status: number;
    detail: string;
    code: string;
    errors?: Array<{ path: string; message: string }>;
  };
}
