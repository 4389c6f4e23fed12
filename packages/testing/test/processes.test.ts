import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AppProcess, getFreePort, repoRoot, startProcess, waitFor } from '../src/index.js';

// A stand-in for an app, started the way the apps are (`npm start -w <workspace>` at a
// workspace root), so signals and exit codes go through npm and `sh -c` as they will.
const serverScript = `
import http from 'node:http';
const server = http.createServer((req, res) => res.end('ok'));
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening on', process.env.PORT));
process.on('SIGTERM', () => {
  console.log('shutting down');
  server.close(() => process.exit(Number(process.env.EXIT_CODE ?? 0)));
});
`;

/** Running, that is: neither gone nor a zombie waiting for init to reap it. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('startProcess with npm start -w', () => {
  let root: string;
  const started: AppProcess[] = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rt-npm-fixture-'));
    await mkdir(join(root, 'packages', 'app'), { recursive: true });
    await writeFile(
      join(root, 'package.json'),
      JSON.stringify({ name: 'fixture', private: true, workspaces: ['packages/*'] }),
    );
    await writeFile(
      join(root, 'packages', 'app', 'package.json'),
      JSON.stringify({
        name: '@fixture/app',
        private: true,
        type: 'module',
        scripts: {
          start: 'node server.js',
          crash: 'node -e "console.error(\'bad ADMIN_TOKEN\'); process.exit(2)"',
        },
      }),
    );
    await writeFile(join(root, 'packages', 'app', 'server.js'), serverScript);
  });

  afterEach(async () => {
    await Promise.all(started.splice(0).map((app) => app.kill()));
  });

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  async function start(env: Record<string, string>, ready: { readyUrl?: string; readyLine?: RegExp }) {
    const app = await startProcess({
      command: 'npm',
      args: ['start', '-w', '@fixture/app'],
      cwd: root,
      env,
      label: 'fixture',
      ...ready,
    });
    started.push(app);
    return app;
  }

  it('waits for readyUrl, and stop() delivers SIGTERM to the node process and returns its exit code', async () => {
    const port = await getFreePort();
    const app = await start(
      { PORT: String(port), EXIT_CODE: '3' },
      { readyUrl: `http://127.0.0.1:${port}/` },
    );
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    expect(await app.stop()).toBe(3);
    expect(app.output()).toContain('shutting down');
    expect(alive(app.pid)).toBe(false);
  });

  it('waits for readyLine and returns 0 for a clean shutdown', async () => {
    const port = await getFreePort();
    const app = await start({ PORT: String(port) }, { readyLine: /listening on \d+/ });
    expect(app.output().some((line) => line.includes(`listening on ${port}`))).toBe(true);
    expect(await app.stop('SIGTERM', 5000)).toBe(0);
  });

  it('kill() takes down npm, sh and node at once', async () => {
    const port = await getFreePort();
    const app = await start({ PORT: String(port) }, { readyLine: /listening on/ });
    const group = execFileSync('ps', ['-o', 'pid=', '-g', String(app.pid)], { encoding: 'utf8' })
      .trim()
      .split(/\s+/)
      .map(Number);
    expect(group.length).toBeGreaterThanOrEqual(2);
    await app.kill();
    // SIGKILL reaches the group at once, but the kernel may still be tearing one down.
    await waitFor(() => group.filter(alive).length === 0, {
      timeoutMs: 2000,
      message: 'the group to be gone',
    });
  });

  it('fails fast with the last output lines when the process exits before it is ready', async () => {
    const error = await startProcess({
      command: 'npm',
      args: ['run', 'crash', '-w', '@fixture/app'],
      cwd: root,
      readyLine: /never/,
      label: 'crasher',
    }).catch((e: unknown) => e);
    expect(String(error)).toMatch(
      /crasher \(pid \d+\) exited before it was ready \(code 2, signal null\), waiting for a line of output matching \/never\//,
    );
    expect(String(error)).toContain('bad ADMIN_TOKEN');
  });

  it('locates the repository root for startApp', () => {
    expect(
      execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: repoRoot, encoding: 'utf8' }).trim(),
    ).toBe(repoRoot.replace(/\/$/, ''));
  });
});

describe('start-up waits follow readiness, within the hook timeout', () => {
  afterEach(() => {
    vi.resetConfig();
  });

  it('a process never ready fails just before the hook would time out, naming it, what it awaited and its last output', async () => {
    // A busy machine gets the whole hook budget, not a fixed guess: here a short one.
    vi.setConfig({ hookTimeout: 6000 });
    const port = await getFreePort();
    const script = `
      const http = require('node:http');
      console.log('booting slowly');
      http.createServer((req, res) => { res.statusCode = 503; res.end('not yet'); }).listen(${port}, '127.0.0.1');
    `;
    const began = performance.now();
    const error = await startProcess({
      command: process.execPath,
      args: ['-e', script],
      label: 'sleepy',
      readyUrl: `http://127.0.0.1:${port}/readyz`,
    }).catch((e: unknown) => e);
    const tookMs = performance.now() - began;
    expect(error).toBeInstanceOf(Error);
    const message = String(error);
    expect(message).toMatch(
      /^Error: sleepy \(pid \d+\) did not become ready within \d+ ms \(the hook timeout of 6000 ms/,
    );
    expect(message).toContain(`GET http://127.0.0.1:${port}/readyz answering 200 (last: 503)`);
    expect(message).toContain('booting slowly');
    // Before vitest's own timeout would have cut the hook short, and not long before it.
    expect(tookMs).toBeLessThan(6000);
    expect(tookMs).toBeGreaterThan(3000);
  });
});
