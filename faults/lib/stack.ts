/**
 * The product under fault: a real redis-server (append-only file on), the api, two or more
 * workers and the logs app as real processes started from their sources as `npm start`
 * runs them, every one on loopback. Apps can be killed, stopped and started again by name.
 */

import {
  createRedis,
  PartitionedQueue,
  queueEnvSchema,
  queueNames,
  type RedisConnection,
  readBacklog,
  resolveQueueLayout,
} from '@registry-triggers/store';
import {
  type AppProcess,
  getFreePorts,
  type RedisHandle,
  redisCommand,
  repoRoot,
  retryOnAddressInUse,
  startProcess,
  startRedis,
  waitFor,
} from '@registry-triggers/testing';
import { TS_NODE_FLAGS } from '../../bench/lib/agents.js';
import { redisServerPid } from '../../bench/lib/machine.js';
import { ADMIN_TOKEN, INGEST_TOKEN, stopApp } from '../../bench/lib/stack.js';

export { ADMIN_TOKEN, INGEST_TOKEN };

export type AppKind = 'api' | 'worker' | 'logs';

export interface StackApp {
  name: string;
  kind: AppKind;
  process: AppProcess;
  /** Whether it runs (false between a kill or stop and its start). */
  running: boolean;
  /** Exit codes of its past lives, in order (null: killed). */
  exits: Array<number | null>;
}

export interface FaultStackOptions {
  workers: number;
  apis: number;
  /** Settings for every app, over the suite's defaults. */
  env?: Record<string, string>;
  /** Where the apps reach Redis instead of the server itself (a proxy in front of it). */
  redisUrlForApps?: (redis: RedisHandle) => Promise<string>;
  log: (line: string) => void;
}

export class FaultStack {
  readonly apps: StackApp[] = [];
  apiUrls: string[] = [];
  logsUrl = '';
  private env: Record<string, string> = {};
  private readonly urls = new Map<string, { readyUrl?: string; readyLine?: RegExp }>();
  private readonly appEnv = new Map<string, Record<string, string>>();
  private queues: Promise<{ redis: RedisConnection; queues: Array<PartitionedQueue<unknown>> }> | undefined;

  private constructor(
    readonly redis: RedisHandle,
    private readonly options: FaultStackOptions,
  ) {}

  /** Redis first (append-only, fsync always: a scenario may relax it with CONFIG SET), then every app. */
  static async start(options: FaultStackOptions): Promise<FaultStack> {
    const redis = await startRedis({ outage: true, persistent: true });
    const stack = new FaultStack(redis, options);
    try {
      await stack.startApps();
    } catch (error) {
      await stack.stop();
      throw error;
    }
    return stack;
  }

  private async startApps(): Promise<void> {
    const { apis, workers } = this.options;
    const redisUrl = this.options.redisUrlForApps
      ? await this.options.redisUrlForApps(this.redis)
      : this.redis.url;
    this.env = {
      REDIS_URL: redisUrl,
      ADMIN_TOKEN,
      INGEST_TOKEN,
      API_HOST: '127.0.0.1',
      LOGS_HOST: '127.0.0.1',
      DELIVERY_ALLOW_PRIVATE_NETWORKS: 'true',
      LOG_LEVEL: 'warn',
      // 200 live-tail clients of one namespace in one scenario; the defaults allow fewer
      // (LOGS_MAX_STREAMS_PER_NAMESPACE is the live-tail quota of issue 21's security work).
      LOGS_MAX_STREAMS: '250',
      LOGS_MAX_STREAMS_PER_NAMESPACE: '250',
      ...this.options.env,
    };
    const starting: Promise<void>[] = [];
    this.apiUrls = Array.from({ length: apis }, () => '');
    for (let i = 0; i < apis; i++) {
      const name = apis === 1 ? 'api' : `api${i + 1}`;
      starting.push(
        this.launchOnFreePort(name, 'api', 'API_PORT').then((url) => {
          this.apiUrls[i] = url;
        }),
      );
    }
    starting.push(
      this.launchOnFreePort('logs', 'logs', 'LOGS_PORT').then((url) => {
        this.logsUrl = url;
      }),
    );
    for (let i = 0; i < workers; i++) {
      const name = `worker${i + 1}`;
      // Each worker a metrics port of its own (the default 9464 would be shared), bound on
      // 0 so that none is probed and handed over; the start-up line says ready.
      this.appEnv.set(name, { LOG_LEVEL: 'info', WORKER_METRICS_PORT: '0' });
      this.urls.set(name, { readyLine: /worker started/ });
      starting.push(this.launch(name, 'worker'));
    }
    await Promise.all(starting);
  }

  /**
   * The first start of an api or the logs app, on a port picked for it: picked again when
   * another process bound it first (the app exits 2, "port N is already in use"). A restart
   * keeps the port. Resolves with the app's URL.
   */
  private launchOnFreePort(name: string, kind: AppKind, portSetting: string): Promise<string> {
    return retryOnAddressInUse(async () => {
      const [port] = await getFreePorts(1);
      const url = `http://127.0.0.1:${port}`;
      this.appEnv.set(name, { [portSetting]: String(port) });
      this.urls.set(name, { readyUrl: `${url}/readyz` });
      await this.launch(name, kind);
      return url;
    });
  }

  private async launch(name: string, kind: AppKind): Promise<void> {
    const readiness = this.urls.get(name)!;
    const process = await startProcess({
      command: globalThis.process.execPath,
      args: [...TS_NODE_FLAGS, `apps/${kind}/src/main.ts`],
      cwd: repoRoot,
      env: { ...this.env, ...this.appEnv.get(name) },
      label: name,
      readyTimeoutMs: 120_000,
      ...readiness,
    });
    const existing = this.apps.find((app) => app.name === name);
    if (existing) {
      existing.process = process;
      existing.running = true;
    } else {
      this.apps.push({ name, kind, process, running: true, exits: [] });
    }
  }

  app(name: string): StackApp {
    const app = this.apps.find((candidate) => candidate.name === name);
    if (!app) throw new Error(`no app ${name}`);
    return app;
  }

  of(kind: AppKind): StackApp[] {
    return this.apps.filter((app) => app.kind === kind);
  }

  /** SIGKILL to the app and everything it started, as in a crash. */
  async kill(name: string): Promise<void> {
    const app = this.app(name);
    app.running = false;
    await app.process.kill();
    app.exits.push(null);
  }

  /** SIGTERM and its graceful shutdown (SIGKILL past `timeoutMs`); resolves with the exit code. */
  async terminate(name: string, timeoutMs = 45_000): Promise<number | null> {
    const app = this.app(name);
    app.running = false;
    const code = await stopApp(app.process, timeoutMs);
    app.exits.push(code);
    return code;
  }

  /** Starts a stopped app again with the same settings; resolves once it is ready. */
  async startAgain(name: string): Promise<void> {
    const app = this.app(name);
    if (app.running) return;
    await this.launch(name, app.kind);
  }

  redisPid(): number {
    const pid = redisServerPid(this.redis.port);
    if (pid === undefined) throw new Error(`no redis-server on port ${this.redis.port}`);
    return pid;
  }

  /** One command on a fresh connection (CONFIG SET, INFO): nothing that outlives a restart. */
  redisCall(...args: string[]): Promise<unknown> {
    return redisCommand(this.redis.host, this.redis.port, args, 5000);
  }

  /**
   * Jobs waiting, delayed or active in every partition of both queues, read from Redis
   * itself (never through the scenario's proxy) as the api's backlog gauge reads them.
   */
  async backlog(): Promise<number> {
    const { queues } = await this.openQueues();
    const backlog = await readBacklog(queues);
    return backlog.reduce((sum, p) => sum + p.counts.waiting + p.counts.delayed + p.counts.active, 0);
  }

  /** Both queues, every partition, opened once (concurrent callers share the opening). */
  private openQueues() {
    this.queues ??= (async () => {
      const redis = createRedis(
        { REDIS_URL: this.redis.url },
        { role: 'fail-fast', commandTimeoutMs: 2000, name: 'fault-suite' },
      );
      // The count as the apps resolve it (the setting, a cluster's record, or 1 on one
      // server), from its one owner rather than a default of our own.
      const { QUEUE_PARTITIONS } = queueEnvSchema.parse(this.env);
      const { partitions } = await resolveQueueLayout(redis, QUEUE_PARTITIONS, { role: 'consumer' });
      const queues = [queueNames.pushEvents, queueNames.deliveries].map(
        (name) => new PartitionedQueue<unknown>(name, partitions, redis),
      );
      return { redis, queues };
    })();
    return this.queues;
  }

  /**
   * Jobs of either queue that ended failed since `since` (epoch ms): how many, and their
   * reasons. A failed push-event job has no record of its own, so it explains a loss.
   */
  async failedJobsSince(since: number): Promise<Record<string, Record<string, number>>> {
    const { queues } = await this.openQueues();
    const failed: Record<string, Record<string, number>> = {};
    for (const queue of queues) {
      for (const partition of queue.partitions) {
        for (const job of await partition.getFailed(0, 999)) {
          if (!job || (job.finishedOn ?? 0) < since) continue;
          const reasons = failed[queue.name] ?? {};
          failed[queue.name] = reasons;
          const reason = job.failedReason.slice(0, 160);
          reasons[reason] = (reasons[reason] ?? 0) + 1;
        }
      }
    }
    return failed;
  }

  /** Every app answers /readyz (api, logs) or runs (workers). */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    await waitFor(
      async () => {
        for (const url of [...this.apiUrls, this.logsUrl]) {
          const response = await fetch(`${url}/readyz`).catch(() => undefined);
          await response?.body?.cancel();
          if (response?.status !== 200) return false;
        }
        return true;
      },
      { timeoutMs, intervalMs: 100, message: 'every app ready' },
    );
  }

  async stop(): Promise<void> {
    for (const app of [...this.apps].reverse()) {
      if (app.running) {
        app.running = false;
        await stopApp(app.process, 40_000);
      }
    }
    if (this.queues) {
      const { redis, queues } = await this.queues;
      await Promise.all(queues.map((queue) => queue.close()));
      redis.disconnect();
    }
    await this.redis.stop();
  }
}
