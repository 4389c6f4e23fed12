#!/usr/bin/env node
// `npm start`: the whole local stack (api, worker, logs) in one terminal, with prefixed
// output; Ctrl-C stops all of it. Redis comes from REDIS_URL, else 127.0.0.1:6379 if it
// answers, else a redis-server started here with its data under .data/.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = join(root, '.data');
const children = [];
let stopping = false;

function log(line) {
  process.stdout.write(`[stack]  ${line}\n`);
}

/** True when a Redis answers PING at host:port within a second. */
function redisAnswers(host, port) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

async function findRedis() {
  if (process.env.REDIS_CLUSTER_NODES)
    return { env: {}, description: `cluster ${process.env.REDIS_CLUSTER_NODES}` };
  if (process.env.REDIS_URL)
    return { env: { REDIS_URL: process.env.REDIS_URL }, description: process.env.REDIS_URL };
  if (await redisAnswers('127.0.0.1', 6379)) {
    return {
      env: { REDIS_URL: 'redis://127.0.0.1:6379' },
      description: 'redis://127.0.0.1:6379 (already running)',
    };
  }
  const binary = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  if (binary.error || binary.status !== 0) {
    process.stderr.write(
      'No Redis found. Set REDIS_URL to a Redis server, or start one on 127.0.0.1:6379, ' +
        'or install redis-server (e.g. `apt-get install redis-server`) so that `npm start` can run one itself.\n',
    );
    process.exit(1);
  }
  const port = 6390;
  mkdirSync(join(dataDir, 'redis'), { recursive: true });
  const redis = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      join(dataDir, 'redis'),
      '--appendonly',
      'yes',
      '--maxmemory-policy',
      'noeviction',
      '--save',
      '',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  track('redis', redis);
  for (let i = 0; i < 50 && !(await redisAnswers('127.0.0.1', port)); i++)
    await new Promise((r) => setTimeout(r, 100));
  if (!(await redisAnswers('127.0.0.1', port))) {
    process.stderr.write(`redis-server did not start on 127.0.0.1:${port}\n`);
    shutdown(1);
  }
  return {
    env: { REDIS_URL: `redis://127.0.0.1:${port}` },
    description: `redis://127.0.0.1:${port} (started here, data in .data/redis)`,
  };
}

/** Tokens generated on the first run and kept in .data/, so the walkthrough survives restarts. */
function localTokens() {
  const file = join(dataDir, 'local-tokens.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  const tokens = {
    ADMIN_TOKEN: `admin_${randomBytes(24).toString('base64url')}`,
    INGEST_TOKEN: `ingest_${randomBytes(24).toString('base64url')}`,
  };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(tokens, null, 2)}\n`, { mode: 0o600 });
  return tokens;
}

function track(name, child) {
  children.push({ name, child });
  const prefix = `[${name}]`.padEnd(9);
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream.on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) process.stdout.write(`${prefix}${line}\n`);
    });
  }
  child.on('exit', (code, signal) => {
    if (stopping) return;
    log(`${name} exited (${signal ?? code}); stopping the stack`);
    shutdown(1);
  });
}

function shutdown(code) {
  if (stopping) return;
  stopping = true;
  log('stopping...');
  // Apps first, Redis last, so the apps can finish what they hold.
  const apps = children.filter(({ name }) => name !== 'redis');
  const redis = children.find(({ name }) => name === 'redis');
  for (const { child } of apps) child.kill('SIGTERM');
  const alive = (c) => c.exitCode === null && c.signalCode === null;
  const deadline = Date.now() + 20_000;
  const wait = setInterval(() => {
    if (apps.some(({ child }) => alive(child)) && Date.now() < deadline) return;
    for (const { child } of apps) if (alive(child)) child.kill('SIGKILL');
    if (redis && alive(redis.child)) redis.child.kill('SIGTERM');
    clearInterval(wait);
    setTimeout(() => process.exit(code), redis ? 500 : 0);
  }, 100);
}

process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

// An empty variable is an unset one, as the apps read them (`HOST=` must not mean every interface).
const setting = (name) => process.env[name]?.trim() || undefined;

const redis = await findRedis();
const tokens = {
  ADMIN_TOKEN: setting('ADMIN_TOKEN') ?? localTokens().ADMIN_TOKEN,
  INGEST_TOKEN: setting('INGEST_TOKEN') ?? localTokens().INGEST_TOKEN,
};
const apiPort = setting('API_PORT') ?? '8080';
const logsPort = setting('LOGS_PORT') ?? '8081';
const workerMetricsPort = setting('WORKER_METRICS_PORT') ?? '9464';
// The local stack stays on this machine unless HOST (or an app's own *_HOST) says otherwise:
// its tokens are printed below and its triggers may call private addresses.
const host = setting('HOST') ?? '127.0.0.1';
const hosts = {
  API_HOST: setting('API_HOST') ?? host,
  LOGS_HOST: setting('LOGS_HOST') ?? host,
  WORKER_METRICS_HOST: setting('WORKER_METRICS_HOST') ?? host,
};
/** Where a browser or curl on this machine reaches an app bound to `bound`. */
const reach = (bound) => (bound === '0.0.0.0' || bound === '::' ? '127.0.0.1' : bound);
const urlHost = (name) => (reach(name).includes(':') ? `[${reach(name)}]` : reach(name));
const env = {
  ...process.env,
  ...redis.env,
  ...tokens,
  ...hosts,
  API_PORT: apiPort,
  LOGS_PORT: logsPort,
  WORKER_METRICS_PORT: workerMetricsPort,
  // The console (served by the logs app) reaches the api's routes through the logs app.
  CONSOLE_API_URL: setting('CONSOLE_API_URL') ?? `http://${urlHost(hosts.API_HOST)}:${apiPort}`,
  DELIVERY_ALLOW_PRIVATE_NETWORKS: setting('DELIVERY_ALLOW_PRIVATE_NETWORKS') ?? 'true',
};

for (const app of ['api', 'worker', 'logs']) {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'src/main.ts'], {
    cwd: join(root, 'apps', app),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(app, child);
}

log(`Redis:  ${redis.description}`);
const apiUrl = `http://${urlHost(hosts.API_HOST)}:${apiPort}`;
log(`api:    ${apiUrl}   (OpenAPI: ${apiUrl}/openapi.json, metrics: ${apiUrl}/metrics)`);
log(`logs:   http://${urlHost(hosts.LOGS_HOST)}:${logsPort}  (the access log's API and live tail)`);
log(`console: http://${urlHost(hosts.LOGS_HOST)}:${logsPort}/  (sign in with the ADMIN_TOKEN below)`);
log(`worker: http://${urlHost(hosts.WORKER_METRICS_HOST)}:${workerMetricsPort}/metrics`);
const bound = [...new Set(Object.values(hosts))].join(', ');
log(
  bound === '127.0.0.1'
    ? 'Listening on 127.0.0.1 only (HOST=0.0.0.0 npm start listens on every interface).'
    : `Listening on ${bound} (HOST): other machines may reach the apps.`,
);
log(`ADMIN_TOKEN=${tokens.ADMIN_TOKEN}`);
log(`INGEST_TOKEN=${tokens.INGEST_TOKEN}`);
// The worker takes true, 1 and yes (packages/http-kit/src/env.ts): say so for each of them.
if (['true', '1', 'yes'].includes(String(env.DELIVERY_ALLOW_PRIVATE_NETWORKS).trim().toLowerCase())) {
  log(
    `DELIVERY_ALLOW_PRIVATE_NETWORKS=${env.DELIVERY_ALLOW_PRIVATE_NETWORKS}: triggers may call loopback and private addresses (local stack only)`,
  );
}
log('Ctrl-C stops everything.');
