/**
 * The `registry-triggers` command against the real stack (api, worker and logs processes on
 * a throwaway Redis) and a real receiver, run as a child process the way a user runs it:
 * login, a trigger end to end, the access log and its live tail (across a restart of the
 * logs app), redeliver, cancel, tokens, and the exit codes 0, 1 and 2.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Receiver, repoRoot, startApp, startReceiver, waitFor } from '@registry-triggers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cli, type CliResult, createCli } from './support/cli.js';
import { ADMIN_TOKEN, type Json, type Stack, startStack } from './support/stack.js';

const NS = 'clins';
const REPO = 'team/app';

let stack: Stack;
let receiver: Receiver;
let cli: Cli;
let triggerId: string;
let seq = 0;

const json = (result: CliResult): Json => {
  expect(result.code, `exit ${result.code}; stderr: ${result.stderr}`).toBe(0);
  return JSON.parse(result.stdout);
};
const push = async (tag: string) => {
  seq++;
  const pushed = await stack.push({
    namespace: NS,
    repository: REPO,
    tag,
    digest: `sha256:${String(seq).padStart(64, '0')}`,
    eventId: `evt-cli-${seq}`,
  });
  expect(pushed.status).toBe(202);
};
/** Waits until the CLI lists at least `count` records of the trigger (with `status`). */
const recordsOf = (count: number, status?: string): Promise<Json[]> =>
  waitFor(
    async () => {
      const args = ['--json', 'records', 'list', NS, '--repo', REPO, '--trigger', triggerId];
      const page = json(await cli.run(status ? [...args, '--status', status] : args));
      return page.records.length >= count ? page.records : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 200, message: `${count} ${status ?? ''} records through the CLI` },
  );

beforeAll(async () => {
  [stack, receiver] = await Promise.all([startStack(), startReceiver()]);
  cli = await createCli();
}, 90_000);
afterAll(async () => {
  cli?.cleanup();
  await receiver?.close();
  await stack?.stop();
});

describe('registry-triggers', () => {
  it('runs from the checkout with npx, and says how it is used', () => {
    const npx = spawnSync('npx', ['registry-triggers', '--version'], { cwd: repoRoot, encoding: 'utf8' });
    expect(npx.status, npx.stderr).toBe(0);
    expect(npx.stdout.trim()).toBe('0.1.0');
  });

  it('login checks the token and keeps it in a 0600 file under XDG_CONFIG_HOME; a bad one is exit 2', async () => {
    const refused = await cli.run(['login', '--url', stack.apiUrl, '--token-stdin'], {
      input: 'not-a-token\n',
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/Unauthorized: a valid bearer token is required/);
    const login = await cli.run(
      ['login', '--url', stack.apiUrl, '--logs-url', stack.logsUrl, '--token-stdin'],
      {
        input: `${ADMIN_TOKEN}\n`,
      },
    );
    expect(login.code, login.stderr).toBe(0);
    const file = join(cli.configHome, 'registry-triggers', 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      url: stack.apiUrl,
      logsUrl: stack.logsUrl,
      token: ADMIN_TOKEN,
    });
  });

  it('manages a repository and a trigger, as a table for people and JSON for scripts', async () => {
    const repo = await cli.run(['repo', 'put', NS, REPO, '--type', 'PRIVATE']);
    expect(repo.code, repo.stderr).toBe(0);
    expect(repo.stdout).toMatch(/^repoType\s+PRIVATE$/m);
    const created = json(
      await cli.run([
        '--json',
        'trigger',
        'create',
        NS,
        REPO,
        '--name',
        'deploy',
        '--url',
        receiver.url,
        '--type',
        'TAG_LIST',
        '--tag',
        'v1',
        '--tag',
        'v2',
        '--header',
        'X-Env=prod',
      ]),
    );
    triggerId = created.id;
    expect(created).toMatchObject({
      name: 'deploy',
      tags: ['v1', 'v2'],
      headers: { 'X-Env': '***' },
      enabled: true,
    });

    const table = await cli.run(['trigger', 'list', NS, REPO]);
    expect(table.code).toBe(0);
    const [header, row] = table.stdout.trim().split('\n');
    expect(header).toMatch(/^ID\s+NAME\s+ENABLED\s+TYPE\s+FILTER\s+URL$/);
    expect(row).toMatch(
      new RegExp(`^${triggerId}\\s+deploy\\s+yes\\s+TAG_LIST\\s+v1,v2\\s+${receiver.url}$`),
    );

    const disabled = json(await cli.run(['--json', 'trigger', 'disable', NS, REPO, triggerId]));
    expect(disabled.enabled).toBe(false);
    const enabled = json(await cli.run(['--json', 'trigger', 'enable', NS, REPO, triggerId]));
    expect(enabled).toMatchObject({ enabled: true, tags: ['v1', 'v2'], headers: { 'X-Env': '***' } });
    const namespaces = json(await cli.run(['--json', 'namespace', 'list']));
    expect(namespaces.namespaces).toContainEqual({ name: NS, repositories: 1, triggers: 1 });
  });

  it('update patches only what it names; get shows it; test sends one delivery now', async () => {
    const other = json(
      await cli.run(
        [
          '--json',
          'trigger',
          'create',
          NS,
          REPO,
          '--name',
          'other',
          '--url',
          receiver.url,
          '--type',
          'TAG_REG_EXP',
          '--expression',
          'rc-.*',
          '--header',
          'X-A=1',
          '--header',
          'X-B=2',
          '--secret-stdin',
        ],
        { input: 'a-secret-value\n' },
      ),
    );
    expect(other).toMatchObject({ secret: '***', headers: { 'X-A': '***', 'X-B': '***' } });
    const updated = json(
      await cli.run([
        '--json',
        'trigger',
        'update',
        NS,
        REPO,
        other.id,
        '--type',
        'ALL',
        '--remove-header',
        'X-A',
        '--name',
        'any tag',
      ]),
    );
    expect(updated).toMatchObject({ name: 'any tag', type: 'ALL', headers: { 'X-B': '***' }, secret: '***' });
    expect(updated.expression).toBeUndefined();
    const shown = await cli.run(['trigger', 'get', NS, REPO, other.id]);
    expect(shown.stdout).toMatch(/^name\s+any tag$/m);
    const sent = receiver.requests.length;
    const tested = json(await cli.run(['--json', 'trigger', 'test', NS, REPO, other.id]));
    expect(tested).toMatchObject({ tag: 'test', status: 'succeeded', triggerId: other.id });
    const [request] = (await receiver.waitForRequests(sent + 1)).slice(sent);
    expect(request!.headers['x-b']).toBe('2');
    expect(request!.headers['x-a']).toBeUndefined();
    expect((await cli.run(['trigger', 'delete', NS, REPO, other.id])).code).toBe(0);
    receiver.reset();
    const repos = json(await cli.run(['--json', 'repo', 'list', NS]));
    expect(repos.repositories.map((r: Json) => r.name)).toEqual([REPO]);
  });

  it('a push reaches the receiver; records list and tail show it; redeliver sends it again', async () => {
    const tail = cli.start(['--json', 'records', 'tail', NS, '--count', '1']);
    await waitFor(() => tail.stderr().includes(`following ${NS}`), {
      timeoutMs: 15_000,
      message: 'the tail to open',
    });
    await push('v1');
    const tailed = await tail.done;
    expect(tailed.code, tailed.stderr).toBe(0);
    const live = JSON.parse(tailed.stdout.trim());
    expect(live).toMatchObject({ triggerId, tag: 'v1', status: 'succeeded', statusCode: '200' });
    await receiver.waitForRequests(1);
    expect(receiver.requests[0]!.headers['x-env']).toBe('prod');

    const [listed] = await recordsOf(1);
    expect(listed).toEqual(live);
    const shown = json(await cli.run(['--json', 'records', 'get', NS, live.id]));
    expect(shown).toEqual(live);

    const redelivered = json(await cli.run(['--json', 'records', 'redeliver', NS, REPO, triggerId, live.id]));
    expect(redelivered.eventId).toBe(live.eventId);
    const requests = await receiver.waitForRequests(2);
    expect(requests[1]!.headers['webhook-id']).toBe(redelivered.deliveryId);
    expect(requests[1]!.body).toBe(requests[0]!.body);
  });

  it('records tail reconnects with Last-Event-ID after the logs app restarts, missing nothing', async () => {
    const tail = cli.start(['--json', 'records', 'tail', NS, '--count', '2'], { timeoutMs: 60_000 });
    await waitFor(() => tail.stderr().includes(`following ${NS}`), {
      timeoutMs: 15_000,
      message: 'the tail to open',
    });
    await push('v2');
    await waitFor(() => tail.stdout().trim().split('\n').filter(Boolean).length === 1, {
      timeoutMs: 20_000,
      message: 'the first record in the tail',
    });
    const first = JSON.parse(tail.stdout().trim());
    // The logs app goes away; a record is written while it is down; it comes back on its port.
    await stack.logs.stop();
    const sent = receiver.requests.length;
    await push('v1');
    await receiver.waitForRequests(sent + 1);
    stack.logs = await startApp({ name: 'logs', env: stack.env, readyUrl: `${stack.logsUrl}/readyz` });
    const tailed = await tail.done;
    expect(tailed.code, tailed.stderr).toBe(0);
    expect(tailed.stderr).toContain(`reconnecting after ${first.id}`);
    const [, second] = tailed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(second).toMatchObject({ triggerId, tag: 'v1', status: 'succeeded' });
    expect(second.id > first.id).toBe(true);
  });

  it('cancel stops the retries of a failing delivery: it ends failed CANCELLED', async () => {
    receiver.respondWith(() => ({ status: 503, body: 'later' }));
    await push('v2');
    const [retrying] = await recordsOf(1, 'retrying');
    expect(retrying.nextAttemptAt).toBeGreaterThan(retrying.requestTime);
    const table = await cli.run(['records', 'list', NS, '--repo', REPO, '--status', 'retrying']);
    expect(table.stdout.split('\n')[0]).toMatch(/NEXT ATTEMPT$/);
    const cancelled = json(await cli.run(['--json', 'records', 'cancel', NS, REPO, triggerId, retrying.id]));
    expect(cancelled).toMatchObject({
      status: 'failed',
      statusCode: 'CANCELLED',
      deliveryId: retrying.deliveryId,
    });
    const again = await cli.run(['records', 'cancel', NS, REPO, triggerId, retrying.id]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^error: Conflict: delivery .* no pending retries to cancel/);
    receiver.respondWith(() => ({ status: 200 }));
  });

  it('tokens: create, list, use, rotate and revoke; a revoked token is exit 2', async () => {
    const issued = json(await cli.run(['--json', 'token', 'create', NS, '--name', 'ci', '--scope', 'read']));
    expect(issued).toMatchObject({ name: 'ci', scope: 'read', namespace: NS });
    const asCi = { env: { REGISTRY_TRIGGERS_TOKEN: issued.token } };
    const read = json(await cli.run(['--json', 'trigger', 'list', NS, REPO], asCi));
    expect(read.triggers.map((t: Json) => t.id)).toEqual([triggerId]);
    const write = await cli.run(['trigger', 'disable', NS, REPO, triggerId], asCi);
    expect(write.code).toBe(2);
    expect(write.stderr).toMatch(/^error: Forbidden: a read token may only read/);

    const list = await cli.run(['token', 'list', NS]);
    expect(list.stdout).toMatch(new RegExp(`^${issued.id}\\s+ci\\s+read\\s`, 'm'));
    expect(list.stdout).not.toContain(issued.token);

    const rotated = json(await cli.run(['--json', 'token', 'rotate', NS, issued.id, '--grace-seconds', '0']));
    expect(rotated.token).not.toBe(issued.token);
    const old = await cli.run(['trigger', 'list', NS, REPO], asCi);
    expect(old.code).toBe(2);
    const asRotated = { env: { REGISTRY_TRIGGERS_TOKEN: rotated.token } };
    expect((await cli.run(['trigger', 'list', NS, REPO], asRotated)).code).toBe(0);

    expect((await cli.run(['token', 'revoke', NS, rotated.id])).code).toBe(0);
    const revoked = await cli.run(['trigger', 'list', NS, REPO], asRotated);
    expect(revoked.code).toBe(2);
    expect(revoked.stderr).toBe('error: Unauthorized: a valid bearer token is required\n');
  });

  it('exit 1 for a usage error, 2 with the field errors for a refused body', async () => {
    for (const args of [
      ['trigger', 'create', NS],
      ['trigger', 'create', NS, REPO, '--type', 'SOME'],
      ['records', 'list', NS, '--trigger', 'x'],
      ['no-such-command'],
    ]) {
      const result = await cli.run(args);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toMatch(/error/);
    }
    const noSettings = await cli.run(['namespace', 'list'], {
      env: { XDG_CONFIG_HOME: join(cli.configHome, 'none') },
    });
    expect(noSettings.code).toBe(1);
    expect(noSettings.stderr).toMatch(/no API URL: run registry-triggers login/);

    const refused = await cli.run([
      'trigger',
      'create',
      NS,
      REPO,
      '--name',
      'x',
      '--url',
      'ftp://nope',
      '--type',
      'TAG_LIST',
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error: Bad Request: /);
    expect(refused.stderr).toMatch(/^ {2}url: /m);
    expect(refused.stderr).toMatch(/^ {2}tags: tags are required when type is TAG_LIST$/m);
  });

  it('deletes the trigger and the repository', async () => {
    expect((await cli.run(['trigger', 'delete', NS, REPO, triggerId])).code).toBe(0);
    const gone = await cli.run(['trigger', 'get', NS, REPO, triggerId]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(/^error: Not Found/);
    expect((await cli.run(['repo', 'delete', NS, REPO])).code).toBe(0);
  });
});
