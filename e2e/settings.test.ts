/**
 * Every app validates its settings at start-up and, on a bad one, exits non-zero with one
 * clear line naming the variable (the contract), instead of a stack trace or running on a
 * silently different value.
 */
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { repoRoot } from '@registry-triggers/testing';
import { describe, expect, it } from 'vitest';

const GOOD = {
  ADMIN_TOKEN: 'settings-admin-token-0123456789',
  INGEST_TOKEN: 'settings-ingest-token-0123456789',
  // Nothing listens here: a start that got past validation would keep retrying, not exit.
  REDIS_URL: 'redis://127.0.0.1:1',
};

async function start(app: 'api' | 'worker' | 'logs', bad: Record<string, string>) {
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

const cases: Array<['api' | 'worker' | 'logs', string, string]> = [
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

describe('a bad setting', () => {
  it.concurrent.each(cases)('%s with %s=%s exits 2 with one line naming it', async (app, name, value) => {
    const { code, stderr } = await start(app, { [name]: value });
    expect(code).toBe(2);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^invalid setting ${name}: `));
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
        const { code, stderr } = await start(app, { [name]: String(port) });
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
