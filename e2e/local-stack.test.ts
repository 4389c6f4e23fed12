/**
 * `npm start` as the README describes it: the local stack listens on 127.0.0.1 only unless
 * HOST says otherwise, says so, and serves /metrics on every app, the worker's included.
 */
import { readFileSync } from 'node:fs';
import {
  type AppProcess,
  getFreePorts,
  type RedisHandle,
  repoRoot,
  startProcess,
  startRedis,
  waitFor,
} from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, INGEST_TOKEN } from './support/stack.js';
import { scrapeMetrics } from './support/worker-kit.js';

/** The local IPv4 addresses listening on `port` (Linux: /proc/net/tcp, state 0A is LISTEN). */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[1]?.endsWith(`:${hexPort}`) && fields[3] === '0A')
    .map((fields) => {
      const hex = fields[1]!.split(':')[0]!;
      // Little-endian bytes of the address.
      return [3, 2, 1, 0].map((i) => Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
    });
}

describe('npm start (the local stack)', () => {
  let redis: RedisHandle;
  let stack: AppProcess;
  let ports: number[];

  beforeAll(async () => {
    redis = await startRedis();
    ports = await getFreePorts(3);
    const [api, logs, worker] = ports.map(String);
    stack = await startProcess({
      command: 'npm',
      args: ['start'],
      cwd: repoRoot,
      label: 'npm start',
      env: {
        REDIS_URL: redis.url,
        ADMIN_TOKEN,
        INGEST_TOKEN,
        API_PORT: api!,
        LOGS_PORT: logs!,
        WORKER_METRICS_PORT: worker!,
        HOST: '',
        API_HOST: '',
        LOGS_HOST: '',
        WORKER_METRICS_HOST: '',
      },
      readyUrl: `http://127.0.0.1:${worker}/readyz`,
      readyTimeoutMs: 60_000,
    });
    // The three apps start side by side: the worker being ready says nothing of the other two.
    for (const port of [api, logs])
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok, {
        timeoutMs: 60_000,
        message: `the app on port ${port} to be ready`,
      });
  }, 150_000);

  afterAll(async () => {
    await stack?.stop('SIGTERM', 30_000);
    await redis?.stop();
  });

  it('listens on 127.0.0.1 only, and says so', () => {
    for (const port of ports) expect(listeningAddresses(port), `port ${port}`).toEqual(['127.0.0.1']);
    expect(stack.output()).toContain(
      '[stack]  Listening on 127.0.0.1 only (HOST=0.0.0.0 npm start listens on every interface).',
    );
  });

  it('serves /metrics on the api, the logs app and the worker', async () => {
    const [api, logs, worker] = ports;
    for (const [app, port] of [
      ['api', api],
      ['logs', logs],
      ['worker', worker],
    ] as const) {
      expect(await scrapeMetrics(`http://127.0.0.1:${port}/metrics`)).toContain(`redis_up{app="${app}"} 1`);
    }
    expect(stack.output()).toContain(`[stack]  worker: http://127.0.0.1:${worker}/metrics`);
  });
});
