/**
 * `npm run bench -- [--quick] [--only=core,ingest,sources,commands,throughput,cluster,latency,slow,fault,memory]
 *   [--worker-concurrency=64] [--env=NAME=value ...] [--cpu-prof=api,worker] [--single-replica]`
 *
 * `--env` passes a setting to both apps, for experiments (e.g. what a product change would
 * gain); `--cpu-prof` writes V8 CPU profiles of those apps to bench/results/tmp/profiles
 * (summarise with bench/profile-summary.ts); `--single-replica` gives the run's server a
 * replica that its apps wait for, as the cluster's do. A run with any of `--env`, `--only`,
 * `--cpu-prof` or `--single-replica` is partial and writes bench/results/tmp/.
 *
 * Starts its own redis-server on a free port, the api and worker apps as real processes,
 * receivers and a bare-BullMQ worker as separate processes, drives load from this process,
 * and writes bench/results/latest.{json,md}. On a shared 2-core machine absolute numbers
 * drift, so every throughput figure is a ratio against a baseline measured in the same
 * round, and the median over rounds is reported. See bench/README.md.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import {
  type AppProcess,
  attachReplica,
  getFreePorts,
  repoRoot,
  startRedis,
} from '@registry-triggers/testing';
import { Redis } from 'ioredis';
import { type Agent, forkAgent, TS_NODE_FLAGS } from './lib/agents.js';
import { parseOnly, runMain, stampedLog } from './lib/cli.js';
import type { BenchContext, BenchOptions, RowResult, StackContext } from './lib/context.js';
import { PushClient } from './lib/load.js';
import { cpuOf, machineInfo, redisServerPid } from './lib/machine.js';
import { nowMs } from './lib/protocol.js';
import { type BenchReport, printTable, writeReport } from './lib/report.js';
import { ADMIN_TOKEN, AdminClient, INGEST_TOKEN, RssSampler, startAppProcess, stopApp } from './lib/stack.js';
import { clusterRows } from './rows/cluster.js';
import { commandsRows } from './rows/commands.js';
import { faultRow } from './rows/fault.js';
import { ingestRows } from './rows/ingest.js';
import { latencyRow } from './rows/latency.js';
import { redisMemoryRow } from './rows/memory.js';
import { MINIMAL_REPOSITORIES, pushFor, receiverSpecs, setupTopology } from './rows/pipeline.js';
import { slowRow } from './rows/slow.js';
import { sourcesRows } from './rows/sources.js';
import { minimalRssRow, runMinimalSteadyLoad, runSteadyLoad, steadyRssRow } from './rows/steady-rss.js';
import { BARE_PREFIX, BARE_QUEUE, throughputRows } from './rows/throughput.js';

const SECTIONS = [
  'core',
  'ingest',
  'sources',
  'commands',
  'throughput',
  'cluster',
  'latency',
  'slow',
  'fault',
  'memory',
] as const;
type Section = (typeof SECTIONS)[number];
const ROW_ORDER = [
  'ingest-single',
  'ingest-single-bare',
  'ingest-batch',
  'ingest-harbor',
  'e2e-one',
  'e2e-fanout',
  'e2e-minimal',
  'cpu-per-notification',
  'e2e-cluster',
  'e2e-cluster-cpu',
  'redis-commands',
  'redis-commands-minimal',
  'latency',
  'slow-receiver',
  'slow-receiver-spread',
  'fault',
  'worker-rss',
  'worker-rss-minimal',
  'redis-memory',
];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only: Section[] = parseOnly(args, SECTIONS);
const want = (section: Section) => only.includes(section);
const extraEnv = Object.fromEntries(
  args
    .filter((arg) => arg.startsWith('--env='))
    .map((arg) => {
      const setting = arg.slice('--env='.length);
      const equals = setting.indexOf('=');
      return [setting.slice(0, equals), setting.slice(equals + 1)];
    }),
);
const profiled = (args.find((arg) => arg.startsWith('--cpu-prof='))?.slice('--cpu-prof='.length) ?? '')
  .split(',')
  .filter(Boolean);
const singleReplica = args.includes('--single-replica');
const partial =
  only.length !== SECTIONS.length || Object.keys(extraEnv).length > 0 || profiled.length > 0 || singleReplica;
const nodeFlagsFor = (app: 'api' | 'worker') =>
  profiled.includes(app)
    ? [
        '--cpu-prof',
        // One dir per app: Node writes a profile per thread (tsx's loader thread too).
        `--cpu-prof-dir=${repoRoot}bench/results/tmp/profiles/${app}`,
      ]
    : [];

const options: BenchOptions = {
  quick,
  rounds: quick ? 1 : 3,
  warmupMs: quick ? 1000 : 1500,
  windowMs: quick ? 3000 : 4000,
  workerConcurrency: Number(args.find((arg) => arg.startsWith('--worker-concurrency='))?.split('=')[1] ?? 64),
  memoryRecords: quick ? 100_000 : 1_000_000,
  singleReplica,
};

const started = nowMs();
const log = stampedLog('bench', started);

async function runCoreMatch(): Promise<BenchReport['coreMatch']> {
  const script = 'bench/core-match.bench.ts';
  if (!existsSync(`${repoRoot}${script}`)) return null;
  const command = `node ${TS_NODE_FLAGS.join(' ')} ${script}`;
  log(`core-match: ${command}`);
  const { stdout } = await promisify(execFile)(process.execPath, [...TS_NODE_FLAGS, script], {
    cwd: repoRoot,
    timeout: 180_000,
    maxBuffer: 1 << 20,
  });
  console.log(stdout);
  return { command, output: stdout };
}

const warnings: string[] = [];

/** Runs one section; a failure becomes a warning in the report instead of losing the whole run. */
async function section<T>(name: string, run: () => Promise<T[]>): Promise<T[]> {
  try {
    return await run();
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log(`section ${name} failed: ${message}`);
    warnings.push(`section ${name} failed: ${message.split('\n')[0]}`);
    return [];
  }
}

async function main(): Promise<void> {
  const machine = machineInfo();
  log(
    `${quick ? 'quick' : 'full'} run on ${machine.nproc} x ${machine.cpuModel}, node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}`,
  );
  const rows: RowResult[] = [];
  const coreMatch = want('core')
    ? ((await section('core', async () => [await runCoreMatch()]))[0] ?? null)
    : null;

  // Our own redis-server on a free port: `outage` makes startRedis use the local binary
  // (never REDIS_URL, a container, or the shared server on 6379).
  const redisHandle = await startRedis({ outage: true });
  const redis = new Redis(redisHandle.url, { connectionName: 'bench' });
  const ctx: BenchContext = { options, redisUrl: redisHandle.url, redis, log };
  log(`redis-server at ${redisHandle.url}`);
  const replicaHandle = singleReplica ? await startRedis({ outage: true }) : undefined;
  if (replicaHandle) {
    await attachReplica(replicaHandle, redisHandle);
    log(`its replica at ${replicaHandle.url}; the apps wait for it (--single-replica)`);
  }

  const [apiPort, metricsPort] = await getFreePorts(2);
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const workerMetricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const env: Record<string, string> = {
    REDIS_URL: redisHandle.url,
    ADMIN_TOKEN,
    INGEST_TOKEN,
    API_PORT: String(apiPort),
    API_HOST: '127.0.0.1',
    WORKER_METRICS_PORT: String(metricsPort),
    WORKER_CONCURRENCY: String(options.workerConcurrency),
    DELIVERY_ALLOW_PRIVATE_NETWORKS: 'true',
    LOG_LEVEL: 'warn',
    ...(singleReplica ? { INGEST_MIN_REPLICAS: '1', DELIVERY_MIN_REPLICAS: '1' } : {}),
    ...extraEnv,
  };
  const processes: AppProcess[] = [];
  const agents: Agent[] = [];
  try {
    const api = await startAppProcess('api', env, `${apiUrl}/readyz`, nodeFlagsFor('api'));
    processes.push(api);
    log(`api started (pid ${api.pid})`);
    if (want('ingest')) {
      log('rows 1-2: ingest');
      const redisPid = redisServerPid(redisHandle.port);
      rows.push(
        ...(await section('ingest', () =>
          ingestRows(ctx, apiUrl, { api: api.pid, ...(redisPid ? { redis: redisPid } : {}) }),
        )),
      );
    }
    if (want('sources')) {
      log('row: the Harbor route against the distribution route');
      const redisPid = redisServerPid(redisHandle.port);
      rows.push(
        ...(await section('sources', () =>
          sourcesRows(ctx, apiUrl, { api: api.pid, ...(redisPid ? { redis: redisPid } : {}) }),
        )),
      );
    }

    if (
      ['commands', 'throughput', 'cluster', 'latency', 'slow', 'fault', 'memory'].some((s) =>
        want(s as Section),
      )
    ) {
      const receiver = await forkAgent('receiver.ts', receiverSpecs);
      const bareWorker = await forkAgent('bare-worker.ts', {
        redisUrl: redisHandle.url,
        queue: BARE_QUEUE,
        prefix: BARE_PREFIX,
        concurrency: options.workerConcurrency,
      });
      const minimalUrl = `http://127.0.0.1:${receiver.ports.minimal}/hook`;
      const minimalPipeline = await forkAgent('minimal-pipeline.ts', {
        redisUrl: redisHandle.url,
        concurrency: options.workerConcurrency,
        repositories: {
          [MINIMAL_REPOSITORIES.one]: [minimalUrl],
          [MINIMAL_REPOSITORIES.fan]: Array.from({ length: 10 }, () => minimalUrl),
        },
      });
      agents.push(receiver, bareWorker, minimalPipeline);
      const worker = await startAppProcess('worker', env, workerMetricsUrl, nodeFlagsFor('worker'));
      processes.push(worker);
      log(
        `worker (pid ${worker.pid}), receivers (pid ${receiver.pid}) and bare worker (pid ${bareWorker.pid}) started`,
      );
      const sampler = new RssSampler({
        worker: worker.pid,
        api: api.pid,
        minimalPipeline: minimalPipeline.pid,
      });
      const cpuPids: Record<string, number> = {
        api: api.pid,
        worker: worker.pid,
        receiver: receiver.pid,
        bareWorker: bareWorker.pid,
        minimalPipeline: minimalPipeline.pid,
      };
      const redisPid = redisServerPid(redisHandle.port);
      if (redisPid !== undefined) cpuPids.redis = redisPid;
      const replicaPid = replicaHandle && redisServerPid(replicaHandle.port);
      if (replicaPid !== undefined) cpuPids['redis replica'] = replicaPid;
      sampler.start();
      const stack: StackContext = {
        ...ctx,
        apiUrl,
        workerMetricsUrl,
        admin: new AdminClient(apiUrl),
        receiver,
        bareWorker,
        minimalPipeline,
        cpu: () => cpuOf(cpuPids),
        setPhase: (phase) => {
          sampler.phase = phase;
        },
      };
      const topology = await setupTopology(stack);

      // Warm-up: JIT, connection pools and BullMQ scripts, outside every measurement.
      stack.setPhase('warm-up');
      const client = new PushClient(apiUrl, INGEST_TOKEN, 16);
      const base = receiver.count('fast');
      await Promise.all(
        Array.from({ length: 16 }, async (_, lane) => {
          for (let i = 0; i < 60; i++) await client.push(pushFor(topology.fan, `w${lane}-${i}`));
        }),
      );
      await receiver.until(() => receiver.count('fast') - base >= 16 * 60 * 10, 120_000);
      await client.close();
      log('warm-up done');

      if (want('commands')) {
        log('row 5: Redis commands per notification');
        rows.push(...(await section('commands', () => commandsRows(stack, topology))));
      }
      if (want('throughput')) {
        log('rows 3-4: end-to-end throughput');
        rows.push(...(await section('throughput', () => throughputRows(stack, topology))));
      }
      if (want('cluster')) {
        log('row 3c: end-to-end on a Redis Cluster vs one server');
        rows.push(...(await section('cluster', () => clusterRows(stack, env, nodeFlagsFor))));
      }
      if (want('latency')) {
        log('row 6: latency at a steady rate');
        rows.push(...(await section('latency', async () => [await latencyRow(stack, topology)])));
      }
      if (want('slow')) {
        log('row 7: slow receiver');
        rows.push(...(await section('slow', () => slowRow(stack, topology))));
      }
      if (want('fault')) {
        log('row 8: 10% of triggers never answer');
        rows.push(...(await section('fault', async () => [await faultRow(stack, topology)])));
      }
      if (want('memory')) {
        log('row 9a: worker RSS at steady load');
        const load = await runSteadyLoad(stack, topology);
        rows.push(steadyRssRow(sampler.samples, load));
        log('row 9b: worker RSS at the same load, ours / the minimal pipeline');
        const minimalLoad = await runMinimalSteadyLoad(stack);
        rows.push(minimalRssRow(sampler.samples, load, minimalLoad, loadavg()));
      }
      sampler.stop();
    }
  } finally {
    for (const app of processes.reverse()) {
      const stopping = nowMs();
      const code = await stopApp(app, 40_000);
      log(`stopped pid ${app.pid} in ${((nowMs() - stopping) / 1000).toFixed(1)} s (exit code ${code})`);
    }
    for (const agent of agents) await agent.close();
  }

  if (want('memory')) {
    log(`row 9: Redis memory with ${options.memoryRecords.toLocaleString('en-US')} access records`);
    rows.push(...(await section('memory', async () => [await redisMemoryRow(ctx)])));
  }
  await redis.quit();
  await redisHandle.stop();
  await replicaHandle?.stop();

  rows.sort((a, b) => ROW_ORDER.indexOf(a.id) - ROW_ORDER.indexOf(b.id));
  for (const row of rows) {
    if (row.rounds.some((round) => Number(round.failedRequests ?? 0) > 0)) {
      warnings.push(`${row.id}: some requests failed (see rounds)`);
    }
  }
  const report: BenchReport = {
    machine,
    options,
    extraEnv,
    durationSeconds: (nowMs() - started) / 1000,
    loadAverageAtEnd: loadavg().map((value) => Math.round(value * 100) / 100),
    rows,
    coreMatch,
    warnings,
  };
  printTable(rows);
  const { json, md } = writeReport(report, partial);
  log(`wrote ${json} and ${md} in ${Math.round(report.durationSeconds)} s`);
  await sleep(10);
}

runMain(main);
