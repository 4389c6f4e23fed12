/**
 * Every app validates its settings at start-up and, on a bad one, exits non-zero with one
 * clear line naming the variable (the contract), instead of a stack trace or running on a
 * silently different value.
 *
 * Every bad value is read by its app's own settings reader (what main.ts calls first), in
 * this process, with the exit and stderr caught: milliseconds a case. A real start of the
 * app (seconds of CPU each, on two shared cores) proves per app that the start goes
 * through that reader and exits 2 with that line alone, and every held port is a real
 * start. `npm run test:settings` (E2E_SETTINGS=full) starts the real app for every case.
 */
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { type RedisHandle, repoRoot, startRedis } from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readApiEnv } from '../apps/api/src/env.js';
import { readLogsEnv } from '../apps/logs/src/env.js';
import { readWorkerEnv } from '../apps/worker/src/env.js';

type App = 'api' | 'worker' | 'logs';
const FULL = process.env.E2E_SETTINGS === 'full';

const GOOD = {
  ADMIN_TOKEN: 'settings-admin-token-0123456789',
  INGEST_TOKEN: 'settings-ingest-token-0123456789',
  // Nothing listens here: a start that got past validation would keep retrying, not exit.
  REDIS_URL: 'redis://127.0.0.1:1',
};

async function start(app: App, bad: Record<string, string>) {
  const { PATH, HOME } = process.env;
  try {
    await promisify(execFile)(process.execPath, ['--conditions=source', '--import', 'tsx', 'src/main.ts'], {
      cwd: `${repoRoot}apps/${app}`,
      env: { PATH, HOME, ...GOOD, ...bad },
      timeout: 40_000,
    });
    return { code: 0, stderr: '' };
  } catch (error) {
    const failed = error as { code: number | string; stderr: string; killed?: boolean };
    return { code: failed.killed ? 'timeout' : failed.code, stderr: failed.stderr };
  }
}

const readers: Record<App, (source: NodeJS.ProcessEnv) => unknown> = {
  api: readApiEnv,
  worker: readWorkerEnv,
  logs: readLogsEnv,
};

class Exited extends Error {
  constructor(readonly code: number | string | null | undefined) {
    super(`process.exit(${code})`);
  }
}

/** The app's settings reader on exactly the environment `start` gives the app. */
function readSettings(app: App, bad: Record<string, string>) {
  const { PATH, HOME } = process.env;
  let stderr = '';
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const exit = vi.spyOn(process, 'exit').mockImplementation((code) => {
    throw new Exited(code);
  });
  try {
    readers[app]({ PATH, HOME, ...GOOD, ...bad });
    return { code: 0, stderr };
  } catch (error) {
    if (error instanceof Exited) return { code: error.code, stderr };
    throw error;
  } finally {
    write.mockRestore();
    exit.mockRestore();
  }
}

const cases: Array<[App, string, string]> = [
  ['api', 'LOG_LEVEL', 'loud'],
  ['worker', 'LOG_LEVEL', 'loud'],
  ['logs', 'LOG_LEVEL', 'loud'],
  ['api', 'REDIS_URL', 'http://x'],
  ['worker', 'REDIS_URL', 'http://x'],
  ['logs', 'REDIS_URL', 'http://x'],
  ['worker', 'DELIVERY_ALLOW_PRIVATE_NETWORKS', 'maybe'],
  ['worker', 'PAYLOAD_TIMEZONE', 'Mars/Base'],
  ['api', 'API_PORT', 'abc'],
  ['logs', 'INGEST_TOKEN', 'short'],
  ['logs', 'CONSOLE_API_URL', 'ftp://api:8080'],
  ['logs', 'CONSOLE_API_URL', 'not a url'],
  ['worker', 'WORKER_PARTITIONS', '0,3'],
  ['worker', 'WORKER_PARTITIONS', 'a'],
  ['worker', 'DELIVERY_MIN_REPLICAS', 'many'],
  ['api', 'ADMIN_TOKEN', ''],
];
/** The real starts of the default run: one case of each app. */
const started = FULL
  ? cases
  : cases.filter(([app, name, value]) =>
      [
        ['api', 'ADMIN_TOKEN', ''],
        ['worker', 'WORKER_PARTITIONS', '0,3'],
        ['logs', 'CONSOLE_API_URL', 'not a url'],
      ].some((one) => one.join('\0') === [app, name, value].join('\0')),
    );

function expectOneLineNaming(result: { code: unknown; stderr: string }, name: string) {
  expect(result.code).toBe(2);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^invalid setting ${name}: `));
}

describe('a bad setting, read by its app', () => {
  it.each(cases)('%s with %s=%s exits 2 with one line naming it', (app, name, value) => {
    expectOneLineNaming(readSettings(app, { [name]: value }), name);
  });
});

describe('a bad setting, at a real start', () => {
  it('starts every app at least once', () => {
    expect(new Set(started.map(([app]) => app))).toEqual(new Set(['api', 'worker', 'logs']));
  });

  it.concurrent.each(started)('%s with %s=%s exits 2 with one line naming it', async (app, name, value) => {
    expectOneLineNaming(await start(app, { [name]: value }), name);
  });

  // A Redis that answers: the api and the logs app wait up to 5 s for their first connection
  // before they listen, and with one they reach the port at once. A start that got past the
  // port would then run on, not exit, and fail its test at the deadline.
  let redis: RedisHandle | undefined;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it.concurrent.each([
    ['api', 'API_PORT'],
    ['logs', 'LOGS_PORT'],
    ['worker', 'WORKER_METRICS_PORT'],
  ] as const)(
    '%s with %s on a port another process holds exits 2 with one line naming it',
    async (app, name) => {
      const holder = createServer();
      await new Promise<void>((resolve) => holder.listen(0, '0.0.0.0', resolve));
      const { port } = holder.address() as AddressInfo;
      try {
        const { code, stderr } = await start(app, { REDIS_URL: redis!.url, [name]: String(port) });
        expect(code).toBe(2);
        expect(stderr.trim().split('\n')).toEqual([
          expect.stringMatching(
            new RegExp(`^invalid setting ${name}: port ${port}( on [0-9.]+)? is already in use$`),
          ),
        ]);
      } finally {
        holder.close();
      }
    },
  );
});
