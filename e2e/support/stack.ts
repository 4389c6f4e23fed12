/**
 * The whole product as a user runs it: a real Redis and the api, worker and logs apps as
 * real processes started with the README's commands, plus a small client for their APIs.
 *
 * With E2E_REDIS=cluster (the `e2e-cluster` test project) the same suites run on a Redis
 * Cluster of 3 masters and 3 replicas, with three queue partitions, instead of one server.
 */
import {
  type AppProcess,
  type RedisHandle,
  startApp,
  startAppOnFreePort,
  startRedis,
  startRedisCluster,
  waitFor,
} from '@registry-triggers/testing';

/** A parsed JSON response. Tests assert it field by field, so a loose type keeps them readable. */
// biome-ignore lint/suspicious/noExplicitAny: see above
export type Json = any;

export const ADMIN_TOKEN = 'e2e-admin-token-0123456789';
export const INGEST_TOKEN = 'e2e-ingest-token-0123456789';

export interface StackOptions {
  /** Extra settings for every app. */
  env?: Record<string, string>;
  workerEnv?: Record<string, string>;
  workers?: number;
  redis?: RedisHandle;
}

export interface Stack {
  redis: RedisHandle;
  apiUrl: string;
  logsUrl: string;
  api: AppProcess;
  logs: AppProcess;
  workers: AppProcess[];
  env: Record<string, string>;
  startWorker(extraEnv?: Record<string, string>): Promise<AppProcess>;
  call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: Json }>;
  logsCall(path: string, token?: string): Promise<{ status: number; body: Json }>;
  createTrigger(
    namespace: string,
    repository: string,
    trigger: Record<string, unknown>,
  ): Promise<{ id: string }>;
  push(events: unknown): Promise<{ status: number; body: Json }>;
  /** Waits until the trigger has at least `count` records (optionally of one status). */
  records(
    namespace: string,
    repository: string,
    triggerId: string,
    count: number,
    status?: string,
  ): Promise<Json[]>;
  stop(): Promise<void>;
}

async function request(url: string, method: string, body: unknown, token: string) {
  const response = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: Json = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed };
}

/** The stack's own Redis: one server, or a cluster under E2E_REDIS=cluster (its settings in `env`). */
async function startOwnRedis(): Promise<{ redis: RedisHandle; env: Record<string, string> }> {
  if (process.env.E2E_REDIS !== 'cluster') return { redis: await startRedis(), env: {} };
  const cluster = await startRedisCluster();
  const seed = cluster.nodes[0]!;
  return {
    redis: {
      url: `redis://127.0.0.1:${seed.port}`,
      host: '127.0.0.1',
      port: seed.port,
      kind: 'local',
      stop: cluster.stop,
    },
    env: { REDIS_CLUSTER_NODES: cluster.seeds, QUEUE_PARTITIONS: '3' },
  };
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const own = options.redis ? undefined : await startOwnRedis();
  const redis = options.redis ?? own!.redis;
  const shared: Record<string, string> = {
    REDIS_URL: redis.url,
    ADMIN_TOKEN,
    INGEST_TOKEN,
    DELIVERY_ALLOW_PRIVATE_NETWORKS: 'true',
    LOG_LEVEL: 'warn',
    ...own?.env,
    ...options.env,
  };
  const startWorker = (extraEnv: Record<string, string> = {}) =>
    startApp({
      name: 'worker',
      env: { ...shared, LOG_LEVEL: 'info', ...options.workerEnv, ...extraEnv },
      readyLine: /worker started/,
    });
  // Ready, not just running: /readyz answers 200 once the app's Redis client can serve it
  // (on a cluster, once it has the slots). The api and the logs app get ports picked for
  // them, picked again if another process took one first (startAppOnFreePort).
  const onPort = (name: 'api' | 'logs', portSetting: string) =>
    startAppOnFreePort({
      name,
      env: shared,
      portSetting,
      readyUrl: (port) => `http://127.0.0.1:${port}/readyz`,
    });
  const [api, logs, ...workers] = await Promise.all([
    onPort('api', 'API_PORT'),
    onPort('logs', 'LOGS_PORT'),
    ...Array.from({ length: options.workers ?? 1 }, () => startWorker()),
  ]);
  const apiUrl = `http://127.0.0.1:${api.port}`;
  const logsUrl = `http://127.0.0.1:${logs.port}`;
  // What a restart of either app needs: the settings and the ports they run on.
  const env = { ...shared, API_PORT: String(api.port), LOGS_PORT: String(logs.port) };

  const stack: Stack = {
    redis,
    apiUrl,
    logsUrl,
    api: api.app,
    logs: logs.app,
    workers,
    env,
    startWorker: async (extraEnv) => {
      const worker = await startWorker(extraEnv);
      workers.push(worker);
      return worker;
    },
    call: (method, path, body, token = ADMIN_TOKEN) => request(`${apiUrl}${path}`, method, body, token),
    logsCall: (path, token = ADMIN_TOKEN) => request(`${logsUrl}${path}`, 'GET', undefined, token),
    async createTrigger(namespace, repository, trigger) {
      const created = await stack.call(
        'POST',
        `/v1/namespaces/${namespace}/repositories/${encodeURIComponent(repository)}/triggers`,
        trigger,
      );
      if (created.status !== 201) throw new Error(`trigger not created: ${JSON.stringify(created.body)}`);
      return created.body;
    },
    push: (events) => stack.call('POST', '/v1/events/push', events, INGEST_TOKEN),
    async records(namespace, repository, triggerId, count, status) {
      const query = new URLSearchParams({ limit: '200', ...(status ? { status } : {}) });
      const path = `/v1/namespaces/${namespace}/repositories/${encodeURIComponent(repository)}/triggers/${triggerId}/records?${query}`;
      return waitFor(
        async () => {
          const page = await stack.logsCall(path);
          return page.status === 200 && page.body.records.length >= count ? page.body.records : undefined;
        },
        {
          timeoutMs: 20_000,
          intervalMs: 50,
          message: `${count} ${status ?? ''} records of trigger ${triggerId}`,
        },
      );
    },
    async stop() {
      await Promise.all([stack.api.stop(), stack.logs.stop(), ...workers.map((worker) => worker.stop())]);
      if (!options.redis) await redis.stop();
    },
  };
  return stack;
}
