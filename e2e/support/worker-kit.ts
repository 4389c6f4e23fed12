/**
 * What the worker end-to-end tests observe besides the stack's own client: the expected
 * Alibaba body written out by hand (not built with the product's code), the worker's
 * Prometheus metrics (queue depth as a "nothing more is coming" barrier, per-process
 * attempt counts), and bare loopback servers where `startReceiver` does not fit
 * (IPv6 loopback, TLS on the fixed port 443, counting connections that never became requests).
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import {
  type AppProcess,
  metricsPortOf,
  type Receiver,
  type ReceiverOptions,
  startReceiver,
  waitFor,
} from '@registry-triggers/testing';
import { type Json, type Stack, startStack } from './stack.js';

/** A stack whose worker serves /metrics (the tests' barrier) and times deliveries out quickly. */
export async function startObservedStack(
  deliveryTimeoutMs: number,
): Promise<{ stack: Stack; metricsUrl: string }> {
  const stack = await startStack({
    workerEnv: {
      DELIVERY_TIMEOUT_MS: String(deliveryTimeoutMs),
      SHUTDOWN_DEADLINE_MS: '5000',
    },
  });
  // The worker bound a port of its own choosing (startApp gives it 0) and logged which.
  return { stack, metricsUrl: metricsUrlOf(stack.workers[0]!) };
}

/** Receivers a suite starts as its tests need them, every one closed by one call (in afterAll). */
export function receiverPool(): {
  start(options?: ReceiverOptions): Promise<Receiver>;
  closeAll(): Promise<void>;
} {
  const started: Receiver[] = [];
  return {
    async start(options) {
      const receiver = await startReceiver(options);
      started.push(receiver);
      return receiver;
    },
    async closeAll() {
      await Promise.all(started.splice(0).map((receiver) => receiver.close()));
    },
  };
}

/** Where a worker started by the stack serves /metrics. */
export function metricsUrlOf(worker: AppProcess): string {
  return `http://127.0.0.1:${metricsPortOf(worker)}/metrics`;
}

/** `YYYY-MM-DD HH:mm:ss` in UTC, the stack's default PAYLOAD_TIMEZONE. */
export function utcDateTime(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 19).replace('T', ' ');
}

export interface ExpectedPush {
  namespace: string;
  repository: string;
  tag: string;
  digest: string;
  pushedAtMs: number;
  /** The repository's createdAt (epoch ms). */
  createdAtMs: number;
  repoType?: 'PUBLIC' | 'PRIVATE';
  region?: string;
}

/** The exact request body the contract prescribes, keys in the contract's order. */
export function acrBody(push: ExpectedPush): string {
  const name = push.repository;
  return (
    `{"push_data":{"digest":"${push.digest}","pushed_at":"${utcDateTime(push.pushedAtMs)}","tag":"${push.tag}"},` +
    `"repository":{"date_created":"${utcDateTime(push.createdAtMs)}","name":"${name}","namespace":"${push.namespace}",` +
    `"region":"${push.region ?? 'local'}","repo_authentication_type":"NO_CERTIFIED",` +
    `"repo_full_name":"${push.namespace}/${name}","repo_origin_type":"NO_CERTIFIED",` +
    `"repo_type":"${push.repoType ?? 'PUBLIC'}"}}`
  );
}

/** A digest unique to `seed`, shaped like a real one. */
export function digestFor(seed: number): string {
  return `sha256:${seed.toString(16).padStart(64, '0')}`;
}

/** Every record of a repository (newest first), read once, no waiting. */
export async function repositoryRecords(stack: Stack, namespace: string, repository: string) {
  const page = await stack.logsCall(
    `/v1/namespaces/${namespace}/repositories/${encodeURIComponent(repository)}/records?limit=200`,
  );
  if (page.status !== 200) throw new Error(`records: ${page.status} ${JSON.stringify(page.body)}`);
  return page.body.records as Json[];
}

/** Every record of one trigger (newest first), read once, no waiting. */
export async function triggerRecords(stack: Stack, namespace: string, repository: string, triggerId: string) {
  const page = await stack.logsCall(
    `/v1/namespaces/${namespace}/repositories/${encodeURIComponent(repository)}/triggers/${triggerId}/records?limit=200`,
  );
  if (page.status !== 200) throw new Error(`records: ${page.status} ${JSON.stringify(page.body)}`);
  return page.body.records as Json[];
}

/** The trigger as the api shows it now. */
export async function getTrigger(stack: Stack, namespace: string, repository: string, triggerId: string) {
  const answer = await stack.call(
    'GET',
    `/v1/namespaces/${namespace}/repositories/${encodeURIComponent(repository)}/triggers/${triggerId}`,
  );
  if (answer.status !== 200) throw new Error(`trigger: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** Sum of every sample of `name` whose labels include `labels`, from Prometheus text. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const sampleLabels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      sampleLabels[pair[1]!] = pair[2]!;
    }
    if (Object.entries(labels).every(([key, value]) => sampleLabels[key] === value)) sum += Number(match[3]);
  }
  return sum;
}

export async function scrapeMetrics(metricsUrl: string): Promise<string> {
  const response = await fetch(metricsUrl);
  if (!response.ok) throw new Error(`${metricsUrl}: ${response.status}`);
  return response.text();
}

/** Jobs of both queues that are waiting, running or scheduled for later, as the worker reports them. */
export async function pendingJobs(metricsUrl: string): Promise<number> {
  const text = await scrapeMetrics(metricsUrl);
  if (!/^queue_jobs\{/m.test(text)) throw new Error('the worker reports no queue_jobs metric');
  return ['waiting', 'active', 'delayed'].reduce(
    (sum, state) => sum + metricSum(text, 'queue_jobs', { state }),
    0,
  );
}

/**
 * Waits until no job is waiting, running or delayed in either queue, seen on two scrapes in a
 * row (the two queues are counted one after the other). After it, nothing more will be sent
 * for what was pushed before: an absence ("this receiver got nothing") can be asserted.
 */
export async function waitForIdleQueues(metricsUrl: string, timeoutMs = 20_000): Promise<void> {
  let idleScrapes = 0;
  await waitFor(
    async () => {
      idleScrapes = (await pendingJobs(metricsUrl)) === 0 ? idleScrapes + 1 : 0;
      return idleScrapes >= 2;
    },
    { timeoutMs, intervalMs: 100, message: `no pending jobs at ${metricsUrl}` },
  );
}

export interface LoopbackServer {
  readonly port: number;
  /** TCP connections accepted, TLS handshakes that failed included. */
  readonly connections: number;
  /** HTTP requests that reached the server (a failed TLS handshake never makes one). */
  readonly requests: ReadonlyArray<{ url: string; headers: IncomingMessage['headers']; body: string }>;
  /** TLS errors seen from clients (e.g. a client that refused the certificate). */
  readonly tlsErrors: readonly string[];
  close(): Promise<void>;
}

/**
 * A bare server answering 200 'ok' on `host:port` (port 0: any), with TLS when `tls` is
 * given. For places `startReceiver` cannot listen: `::1`, or a fixed port such as 443.
 */
export async function startLoopbackServer(options: {
  host: string;
  port?: number;
  tls?: { key: string; cert: string };
}): Promise<LoopbackServer> {
  const requests: Array<{ url: string; headers: IncomingMessage['headers']; body: string }> = [];
  const tlsErrors: string[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.end('ok');
    });
  };
  const server: Server = options.tls
    ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, onRequest)
    : createServer(onRequest);
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', (error: Error & { code?: string }) =>
    tlsErrors.push(error.code ?? error.message),
  );
  server.listen(options.port ?? 0, options.host);
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([error]) => {
      throw error;
    }),
  ]);
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return connections;
    },
    requests,
    tlsErrors,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
