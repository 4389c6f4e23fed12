/** The product under test: the api and worker apps as real processes, plus what talks to them. */
import { type AppProcess, repoRoot, startProcess } from '@registry-triggers/testing';
import { TS_NODE_FLAGS } from './agents.js';
import { rssMiB } from './machine.js';
import { nowMs } from './protocol.js';

export const ADMIN_TOKEN = 'bench-admin-token-0123456789';
export const INGEST_TOKEN = 'bench-ingest-token-0123456789';

/** Starts `apps/<name>/src/main.ts` as `npm start` would (node, source condition, tsx), without npm. */
export function startAppProcess(
  name: 'api' | 'worker',
  env: Record<string, string>,
  readyUrl: string,
  extraNodeFlags: string[] = [],
): Promise<AppProcess> {
  return startProcess({
    command: process.execPath,
    args: [...extraNodeFlags, ...TS_NODE_FLAGS, `apps/${name}/src/main.ts`],
    cwd: repoRoot,
    env,
    label: name,
    readyUrl,
    readyTimeoutMs: 120_000,
  });
}

export interface TriggerBody {
  name: string;
  url: string;
  type: 'ALL';
  enabled: boolean;
}

/**
 * SIGTERM to the app's node process itself, then SIGKILL to its group after `timeoutMs`.
 * (AppProcess.stop signals the leader's only child, which for a bare `node --import tsx`
 * is tsx's esbuild service, not the app.) Resolves with the exit code, null if killed.
 */
export async function stopApp(app: AppProcess, timeoutMs: number): Promise<number | null> {
  try {
    process.kill(app.pid, 'SIGTERM');
  } catch {
    return (await app.exited).code;
  }
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([app.exited, deadline]);
  clearTimeout(timer);
  if (outcome !== 'timeout') return outcome.code;
  await app.kill();
  return null;
}

/** Admin calls on the api (setting up triggers), the way a user makes them. */
export class AdminClient {
  constructor(private readonly apiUrl: string) {}

  private async call(method: string, path: string, body: unknown): Promise<unknown> {
    const response = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  private triggersPath(namespace: string, repository: string) {
    return `/v1/namespaces/${namespace}/repositories/${encodeURIComponent(repository)}/triggers`;
  }

  async createTrigger(namespace: string, repository: string, body: TriggerBody): Promise<string> {
    const created = (await this.call('POST', this.triggersPath(namespace, repository), body)) as {
      id: string;
    };
    return created.id;
  }

  async replaceTrigger(namespace: string, repository: string, id: string, body: TriggerBody): Promise<void> {
    await this.call('PUT', `${this.triggersPath(namespace, repository)}/${id}`, body);
  }
}

/** Counter values of a Prometheus text page, keyed `name{labels}`. */
export async function scrapeCounters(metricsUrl: string, names: string[]): Promise<Record<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const values: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const name = names.find((candidate) => line.startsWith(candidate));
    if (!name) continue;
    const space = line.lastIndexOf(' ');
    // Drop the default `app` label so keys read `delivery_attempts_total{outcome="succeeded"}`.
    const key = line
      .slice(0, space)
      .replace(/app="[^"]*",?/, '')
      .replace('{}', '')
      .replace(',}', '}');
    values[key] = Number(line.slice(space + 1));
  }
  return values;
}

export function counterDelta(before: Record<string, number>, after: Record<string, number>) {
  const delta: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) {
    const change = value - (before[key] ?? 0);
    if (change !== 0) delta[key] = change;
  }
  return delta;
}

export interface RssSample {
  t: number;
  phase: string;
  rss: Record<string, number>;
}

/** Samples the resident memory of named processes on an interval, tagged with the current phase. */
export class RssSampler {
  readonly samples: RssSample[] = [];
  phase = 'start';
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pids: Record<string, number>) {}

  start(intervalMs = 500): void {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.sample();
  }

  sample(): void {
    const rss: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      const value = rssMiB(pid);
      if (value !== undefined) rss[name] = value;
    }
    this.samples.push({ t: nowMs(), phase: this.phase, rss });
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
