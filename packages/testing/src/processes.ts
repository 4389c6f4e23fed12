// App processes started exactly as the README tells a user to start them
// (`npm start -w @registry-triggers/<app>` at the repository root).
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  type ExitStatus,
  spawnTracked,
  stopChild,
  type TrackedChild,
  tail,
  waitUntilReady,
} from './child-process.js';
import { getFreePort, retryOnAddressInUse } from './free-port.js';
import { httpReadiness } from './http-check.js';

export { getFreePort, getFreePorts } from './free-port.js';

/** The repository root, found from this file (packages/testing/{src,dist}/processes.*). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export type AppName = 'api' | 'worker' | 'logs';

export interface ReadinessOptions {
  /** Ready once a GET here answers 200. */
  readyUrl?: string;
  /** Ready once a line of stdout or stderr matches. */
  readyLine?: RegExp;
  /**
   * Default: what the running vitest hook leaves (its timeout less a margin; 120 s outside
   * vitest). A start is slow on two busy cores, and only readiness says when it is done.
   */
  readyTimeoutMs?: number;
}

export interface StartAppOptions extends ReadinessOptions {
  name: AppName;
  /** Merged over process.env. */
  env?: Record<string, string>;
}

export interface StartProcessOptions extends ReadinessOptions {
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: Record<string, string>;
  /** For messages, e.g. "api". */
  label?: string;
}

export interface AppProcess {
  /** pid of the npm process, which leads the process group. */
  readonly pid: number;
  /** Settles when npm has exited; its exit code is the app's. */
  readonly exited: Promise<ExitStatus>;
  /** stdout and stderr lines so far. */
  output(): string[];
  /**
   * Sends `signal` to the app's process and resolves with the exit code (the app's, as
   * npm passes it on); past `timeoutMs` the whole group gets SIGKILL and this resolves null.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  /** SIGKILL to the whole process group, as in a crash. */
  kill(): Promise<void>;
}

export async function startApp(options: StartAppOptions): Promise<AppProcess> {
  const { name, env: given, ...readiness } = options;
  // The worker serves its metrics on 9464 by default: tests run several workers at once, so
  // each binds a port of the kernel's choosing (0) unless the test names one; `metricsPortOf`
  // reads which from its start-up line. No port is probed and handed over, so none can be
  // taken in between.
  const ownPort =
    name === 'worker' && given?.WORKER_METRICS_PORT === undefined && !process.env.WORKER_METRICS_PORT;
  const env = ownPort ? { ...given, WORKER_METRICS_PORT: '0' } : given;
  return startProcess({
    command: 'npm',
    args: ['start', '-w', `@registry-triggers/${name}`],
    cwd: repoRoot,
    label: name,
    ...(env ? { env } : {}),
    ...readiness,
  });
}

export interface StartAppOnFreePortOptions extends Omit<StartAppOptions, 'readyUrl'> {
  /** The app's port setting: API_PORT, LOGS_PORT or WORKER_METRICS_PORT. */
  portSetting: string;
  /** Ready once a GET here answers 200, e.g. (port) => `http://127.0.0.1:${port}/readyz`. */
  readyUrl?: (port: number) => string;
}

/**
 * Starts an app on a port picked for it. The port was free when picked, but another
 * process may bind it before the app does: the app then exits 2 with its one line
 * ("invalid setting API_PORT: port N is already in use") and the start is made again on
 * another port. For apps whose port must be known before they run (the api's and the logs
 * app's URLs, which they do not report when given 0).
 */
export function startAppOnFreePort(
  options: StartAppOnFreePortOptions,
): Promise<{ app: AppProcess; port: number }> {
  const { portSetting, readyUrl, env, ...rest } = options;
  return retryOnAddressInUse(async () => {
    const port = await getFreePort();
    const app = await startApp({
      ...rest,
      env: { ...env, [portSetting]: String(port) },
      ...(readyUrl ? { readyUrl: readyUrl(port) } : {}),
    });
    return { app, port };
  });
}

/**
 * The port a worker serves /metrics on, from its start-up line ("worker metrics on
 * http://host:port/metrics", at LOG_LEVEL info): the port it bound, 0 given or not.
 */
export function metricsPortOf(worker: AppProcess): number {
  for (const line of worker.output()) {
    const match = /worker metrics on https?:\/\/[^\s"]*:(\d+)\/metrics/.exec(line);
    if (match) return Number(match[1]);
  }
  throw new Error('the worker logged no "worker metrics on" line (is LOG_LEVEL info or lower?)');
}

/**
 * Starts a command in its own process group (npm start runs `sh -c` and the app below it,
 * and nothing of the three may outlive the test) and waits until it is ready.
 */
export async function startProcess(options: StartProcessOptions): Promise<AppProcess> {
  const label = options.label ?? options.command;
  const tracked = await spawnTracked(options.command, options.args, {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    group: true,
  });
  const readiness = readinessCheck(tracked, options);
  try {
    await waitUntilReady(tracked, readiness.check, {
      label,
      awaiting: readiness.awaiting,
      ...(options.readyTimeoutMs === undefined ? {} : { timeoutMs: options.readyTimeoutMs }),
    });
  } catch (error) {
    console.error(`[testing] ${label} did not start; last output:\n${tail(tracked.output())}`);
    throw error;
  }

  return {
    pid: tracked.pid,
    exited: tracked.exited,
    output: () => tracked.output(),
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      // Signalling the whole group would kill npm at once (exit by signal, the app's own
      // exit code lost, and stop() returning before the app has finished shutting down),
      // so the signal goes to the app process only; npm exits when it does.
      const target = appProcessOf(tracked.pid);
      const status = await stopChild(tracked, {
        signal,
        timeoutMs,
        ...(target !== undefined ? { target } : {}),
      });
      return status?.code ?? null;
    },
    async kill() {
      await stopChild(tracked, { signal: 'SIGKILL', timeoutMs: 5000 });
    },
  };
}

/** Ready once every signal given has been seen: the ready line, and a 200 from the ready URL. */
function readinessCheck(
  tracked: TrackedChild,
  options: ReadinessOptions,
): { check: () => Promise<boolean>; awaiting: () => string } {
  const { readyUrl, readyLine } = options;
  let lineSeen = readyLine === undefined || tracked.output().some((line) => readyLine.test(line));
  if (!lineSeen && readyLine) {
    const unsubscribe = tracked.onLine((line) => {
      if (!readyLine.test(line)) return;
      lineSeen = true;
      unsubscribe();
    });
  }
  const http = readyUrl === undefined ? undefined : httpReadiness(readyUrl);
  let urlAnswered = http === undefined;
  return {
    check: async () => {
      if (!urlAnswered && http) urlAnswered = await http.check();
      return lineSeen && urlAnswered;
    },
    awaiting: () =>
      [
        ...(readyLine && !lineSeen ? [`a line of output matching ${readyLine}`] : []),
        ...(http && !urlAnswered ? [http.awaiting()] : []),
      ].join(' and ') || 'nothing more (it was ready)',
  };
}

const SHELLS = new Set(['sh', 'bash', 'dash']);

/**
 * The process the npm script runs (npm → sh → node, or npm → node), found in /proc.
 * Undefined where /proc is missing or the tree is not a simple chain.
 */
function appProcessOf(leader: number): number | undefined {
  let current = leader;
  for (let depth = 0; depth < 4; depth++) {
    const children = childrenOf(current);
    if (children.length !== 1) return undefined;
    current = children[0]!;
    if (!SHELLS.has(commandName(current))) return current;
  }
  return undefined;
}

function childrenOf(parent: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so cut after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) children.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return children;
}

function commandName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}
