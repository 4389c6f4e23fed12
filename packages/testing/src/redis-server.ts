// One Redis server per test suite: REDIS_URL if the environment provides one, else a
// container when a container engine answers, else the local `redis-server` binary.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { spawnTracked, stopChild, type TrackedChild, waitUntilReady } from './child-process.js';
import { trackDir, untrackDir } from './cleanup.js';
import { getFreePort, retryOnAddressInUse } from './free-port.js';
import { redisPing } from './redis-command.js';
import { withTimeout } from './wait.js';

export type RedisKind = 'container' | 'local' | 'external';

export interface RedisHandle {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly kind: RedisKind;
  /** Stops the server (a no-op for an external one). */
  stop(): Promise<void>;
  /** Graceful stop, then start again (same port for the local kind). */
  restart?(): Promise<void>;
  /** SIGKILL: the server vanishes mid-flight, as in an outage. Local kind only. */
  kill?(): Promise<void>;
  /** Starts again on the same port after stop() or kill(). Local kind only. */
  start?(): Promise<void>;
}

export interface StartRedisOptions {
  /** Keep data across stop/kill and start (append-only file, fsync on every write). */
  persistent?: boolean;
  /**
   * The test will stop, kill and start the server: skip REDIS_URL and containers and
   * run the local binary, the only kind that can come back on the same port.
   */
  outage?: boolean;
}

const HOST = '127.0.0.1';

export async function startRedis(options: StartRedisOptions = {}): Promise<RedisHandle> {
  if (!options.outage) {
    const external = process.env['REDIS_URL'];
    if (external) return externalRedis(external);
    if (await containerRuntimeAvailable()) {
      try {
        return await startContainerRedis(options);
      } catch (error) {
        // An engine that answers but cannot run the image (no network to pull, say)
        // should not fail every suite: the local binary does the same job.
        containerRuntime = Promise.resolve(false);
        console.warn(`[testing] Redis container failed, using local redis-server: ${String(error)}`);
      }
    }
  }
  return startLocalRedis(options);
}

function externalRedis(url: string): RedisHandle {
  const parsed = new URL(url);
  return {
    url,
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    kind: 'external',
    // Shared server: tests separate themselves by key prefix, and it is not ours to stop.
    stop: async () => {},
  };
}

let containerRuntime: Promise<boolean> | undefined;

/** Whether testcontainers finds a container engine; answers within about 3 s, once per process. */
export function containerRuntimeAvailable(): Promise<boolean> {
  containerRuntime ??= detectContainerRuntime();
  return containerRuntime;
}

async function detectContainerRuntime(): Promise<boolean> {
  // Loading testcontainers costs half a second; skip it where no engine can be reached.
  if (!containerRuntimeHinted()) return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await withTimeout(getContainerRuntimeClient(), 3000, 'looking for a container runtime');
    return true;
  } catch {
    return false;
  }
}

function containerRuntimeHinted(): boolean {
  if (process.env['DOCKER_HOST'] || process.env['TESTCONTAINERS_HOST_OVERRIDE']) return true;
  const runtimeDir = process.env['XDG_RUNTIME_DIR'];
  const candidates = [
    '/var/run/docker.sock',
    '/run/podman/podman.sock',
    join(homedir(), '.testcontainers.properties'),
    join(homedir(), '.docker', 'run', 'docker.sock'),
    join(homedir(), '.docker', 'desktop', 'docker.sock'),
    join('/run', 'user', String(userInfo().uid), 'docker.sock'),
    ...(runtimeDir ? [join(runtimeDir, 'docker.sock')] : []),
  ];
  return candidates.some((path) => existsSync(path));
}

async function startContainerRedis(options: StartRedisOptions): Promise<RedisHandle> {
  const { RedisContainer } = await import('@testcontainers/redis');
  const container = await new RedisContainer('redis:7-alpine')
    .withCommand(['redis-server', '--save', '', '--appendonly', options.persistent ? 'yes' : 'no'])
    .start();
  // The mapped port can change when the container restarts, so read it on every access.
  return {
    kind: 'container',
    get host() {
      return container.getHost();
    },
    get port() {
      return container.getPort();
    },
    get url() {
      return `redis://${container.getHost()}:${container.getPort()}`;
    },
    stop: async () => {
      await container.stop();
    },
    restart: async () => {
      await container.restart();
    },
  };
}

async function startLocalRedis(options: StartRedisOptions): Promise<RedisHandle> {
  const persistent = options.persistent ?? false;
  const dir = await mkdtemp(join(tmpdir(), 'rt-redis-'));
  trackDir(dir);
  // biome-ignore format: one flag and its value per line
  const args = (port: number) => [
    '--port', String(port),
    '--bind', HOST,
    '--protected-mode', 'no',
    '--dir', dir,
    '--save', '',
    '--appendonly', persistent ? 'yes' : 'no',
    // Every acknowledged write must survive a SIGKILL in an outage test.
    ...(persistent ? ['--appendfsync', 'always'] : []),
    '--daemonize', 'no',
  ];
  const launch = async (port: number): Promise<TrackedChild> => {
    await mkdir(dir, { recursive: true });
    const server = await spawnTracked('redis-server', args(port));
    await waitUntilReady(server, () => redisPing(HOST, port), {
      label: `redis-server on port ${port}`,
      awaiting: () => 'PING to answer PONG',
    });
    return server;
  };

  let port: number;
  let running: TrackedChild | undefined;
  try {
    ({ port, running } = await retryOnAddressInUse(async () => {
      const port = await getFreePort();
      return { port, running: await launch(port) };
    }));
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    untrackDir(dir);
    throw error;
  }

  const stop = async () => {
    const current = running;
    running = undefined;
    if (current) await stopChild(current, { signal: 'SIGTERM', timeoutMs: 5000 });
    // Nothing worth keeping in a non-persistent dir; a persistent one waits for start().
    if (!persistent) await rm(dir, { recursive: true, force: true });
  };
  const start = async () => {
    if (running) return;
    running = await launch(port);
  };
  return {
    url: `redis://${HOST}:${port}`,
    host: HOST,
    port,
    kind: 'local',
    stop,
    start,
    restart: async () => {
      await stop();
      await start();
    },
    kill: async () => {
      const current = running;
      running = undefined;
      if (current) await stopChild(current, { signal: 'SIGKILL', timeoutMs: 5000 });
    },
  };
}
