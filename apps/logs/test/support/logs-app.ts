/** The logs app over real HTTP on a real Redis, as its tests start it. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, createLogger, listen } from '@registry-triggers/http-kit';
import { createRedis, type RedisConnection } from '@registry-triggers/store';
import { waitFor } from '@registry-triggers/testing';
import { Registry } from 'prom-client';
import { createLogsApp } from '../../src/app.js';

export interface LogsUnderTest {
  url: string;
  app: ReturnType<typeof createLogsApp>;
  http: Server;
  /** The app's own connection (fail-fast, as in main.ts), for the test's writes too. */
  redis: RedisConnection;
  /** Every connection the app opened to follow a namespace's log, in order. */
  tails: RedisConnection[];
  /** Ends the streams, the server and the connection; a second call does nothing. */
  close(): Promise<void>;
}

export interface LogsOptions {
  redisUrl: string;
  adminToken: string;
  ingestToken?: string;
  maxStreams?: number;
  /** Where unknown `/v1/*` routes are forwarded (CONSOLE_API_URL). */
  apiUrl?: string;
  apiTimeoutMs?: number;
  maxStreamsPerNamespace?: number;
  /** Bytes a stream may have waiting for a client that does not read before it is cut off. */
  streamBufferBytes?: number;
}

export async function startLogsApp(options: LogsOptions): Promise<LogsUnderTest> {
  const env = { REDIS_URL: options.redisUrl };
  const redis = createRedis(env, { role: 'fail-fast', commandTimeoutMs: 2000, name: 'logs-test' });
  // A fail-fast connection refuses commands until it is connected.
  await waitFor(() => redis.status === 'ready', { message: 'the Redis connection' });
  const tails: RedisConnection[] = [];
  const app = createLogsApp({
    adminToken: options.adminToken,
    ingestToken: options.ingestToken,
    redis,
    blockingConnection: () => {
      const connection = createRedis(env, { role: 'worker', name: 'logs-tail' });
      tails.push(connection);
      return connection;
    },
    maxStreams: options.maxStreams ?? 10,
    apiUrl: options.apiUrl === undefined ? undefined : new URL(options.apiUrl),
    ...(options.apiTimeoutMs === undefined ? {} : { apiTimeoutMs: options.apiTimeoutMs }),
    maxStreamsPerNamespace: options.maxStreamsPerNamespace ?? 10,
    streamBufferBytes: options.streamBufferBytes ?? 1024 * 1024,
    logger: createLogger('logs', 'silent'),
    metrics: new Registry(),
  });
  const http = await listen(app, 0, '127.0.0.1');
  let closed = false;
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    app,
    http,
    redis,
    tails,
    close: async () => {
      if (closed) return;
      closed = true;
      app.closeStreams();
      await closeServer(http);
      app.closeApiConnections();
      await redis.quit();
    },
  };
}
