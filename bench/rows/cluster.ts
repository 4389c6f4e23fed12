/**
 * Row 3c (issue 9): end-to-end deliveries/s on a Redis Cluster (3 masters + 3 replicas,
 * QUEUE_PARTITIONS=3) against the same load on the run's single server, in the same round;
 * plus the share of the commands each master served. The load is row 3's (16 clients,
 * single-event pushes, one ALL trigger to `fast`), spread over 12 repositories, 4 in each
 * partition, pushed round-robin.
 *
 * Row 3d (issue 19), from the same windows: the CPU per delivery of the stack (api + worker +
 * every redis-server) on the cluster against the run's one server. Its target's baseline is
 * one server with a replica and the same replica waits (`--single-replica`); without it the
 * row is reported against a server with no replica and not judged.
 */

import { loadavg } from 'node:os';
import { partitionFor } from '@registry-triggers/store';
import {
  type AppProcess,
  type ClusterHandle,
  getFreePorts,
  startRedisCluster,
  waitFor,
} from '@registry-triggers/testing';
import { Redis } from 'ioredis';
import { fmt, type RowResult, type StackContext } from '../lib/context.js';
import { PushClient } from '../lib/load.js';
import { cpuOf } from '../lib/machine.js';
import { commandCalls, diffCalls, infoSection } from '../lib/redis-info.js';
import { AdminClient, INGEST_TOKEN, startAppProcess, stopApp } from '../lib/stack.js';
import { median, round } from '../lib/stats.js';
import { pushFor, type Repo, saturate, triggerBody } from './pipeline.js';

const CLIENTS = 16;
const REPOSITORIES = 12;
const PARTITIONS = 3;
const HOST = '127.0.0.1';

/** REPOSITORIES names, REPOSITORIES / PARTITIONS in each partition (the product's own FNV-1a split). */
function spreadNames(namespace: string): string[] {
  const perPartition = new Array<number>(PARTITIONS).fill(0);
  const names: string[] = [];
  for (let i = 0; names.length < REPOSITORIES; i++) {
    const partition = partitionFor(namespace, `spread-${i}`, PARTITIONS);
    if (perPartition[partition]! >= REPOSITORIES / PARTITIONS) continue;
    perPartition[partition]!++;
    names.push(`spread-${i}`);
  }
  return names;
}

async function repos(ctx: StackContext, namespace: string): Promise<Repo[]> {
  const created: Repo[] = [];
  for (const repository of spreadNames(namespace)) {
    const id = await ctx.admin.createTrigger(namespace, repository, triggerBody(ctx, 't0', 'fast'));
    created.push({ namespace, repository, triggerIds: [id] });
  }
  return created;
}

/** Commands per master (INFO commandstats, INFO itself left out). */
async function masterCalls(masters: Map<number, Redis>): Promise<Map<number, Map<string, number>>> {
  const calls = new Map<number, Map<string, number>>();
  for (const [port, redis] of masters) calls.set(port, await commandCalls(redis));
  return calls;
}

/** The masters' replication offsets summed: bytes of replication stream produced so far. */
async function replicationOffset(masters: Map<number, Redis>): Promise<number> {
  let total = 0;
  for (const redis of masters.values())
    total += Number((await infoSection(redis, 'replication')).master_repl_offset);
  return total;
}

const totalOf = (calls: Map<string, number>) => [...calls.values()].reduce((sum, count) => sum + count, 0);

/** The stack's CPU ms per delivery: api, worker and every redis-server; not the receiver or the load. */
export function stackCpu(perUnit: Record<string, number>): number {
  const stack = Object.entries(perUnit).filter(
    ([name]) => name === 'api' || name === 'worker' || name.startsWith('redis'),
  );
  return round(
    stack.reduce((sum, [, ms]) => sum + ms, 0),
    3,
  );
}

/**
 * `env` is the single-server apps' environment (tokens, settings, --env extras); the cluster
 * apps get the same plus REDIS_CLUSTER_NODES, QUEUE_PARTITIONS and their own ports.
 */
export async function clusterRows(
  single: StackContext,
  env: Record<string, string>,
  nodeFlagsFor: (app: 'api' | 'worker') => string[],
): Promise<RowResult[]> {
  const cluster: ClusterHandle = await startRedisCluster();
  const processes: AppProcess[] = [];
  const masters = new Map<number, Redis>();
  try {
    single.log(`  cluster up: ${cluster.seeds}`);
    const [apiPort, metricsPort] = await getFreePorts(2);
    const apiUrl = `http://${HOST}:${apiPort}`;
    const workerMetricsUrl = `http://${HOST}:${metricsPort}/metrics`;
    const clusterEnv: Record<string, string> = {
      ...env,
      REDIS_CLUSTER_NODES: cluster.seeds,
      QUEUE_PARTITIONS: String(PARTITIONS),
      API_PORT: String(apiPort),
      WORKER_METRICS_PORT: String(metricsPort),
    };
    const api = await startAppProcess('api', clusterEnv, `${apiUrl}/readyz`, nodeFlagsFor('api'));
    processes.push(api);
    const worker = await startAppProcess('worker', clusterEnv, workerMetricsUrl, nodeFlagsFor('worker'));
    processes.push(worker);
    // Ready, not just running: the api answers 503 until its cluster client has the slots.
    await waitFor(async () => (await fetch(`${apiUrl}/readyz`)).status === 200, {
      timeoutMs: 30_000,
      intervalMs: 100,
      message: `${apiUrl}/readyz`,
    });
    for (const node of cluster.nodes.filter((n) => n.role === 'master')) {
      masters.set(
        node.port,
        new Redis({ host: HOST, port: node.port, connectionName: 'bench-cluster-info' }),
      );
    }
    const clusterPids: Record<string, number> = {
      api: api.pid,
      worker: worker.pid,
      receiver: single.receiver.pid,
    };
    for (const node of cluster.nodes) clusterPids[`redis-${node.role}-${node.port}`] = node.pid;
    const onCluster: StackContext = {
      ...single,
      apiUrl,
      workerMetricsUrl,
      admin: new AdminClient(apiUrl),
      cpu: () => cpuOf(clusterPids),
    };
    single.log(`  cluster api (pid ${api.pid}) and worker (pid ${worker.pid}) started`);

    const targets = {
      single: await repos(single, 'benchspread'),
      cluster: await repos(onCluster, 'benchspread'),
    };
    const contexts = { single, cluster: onCluster };
    const clients = {
      single: new PushClient(single.apiUrl, INGEST_TOKEN, CLIENTS),
      cluster: new PushClient(apiUrl, INGEST_TOKEN, CLIENTS),
    };
    // Warm-up of the cluster apps (JIT, pools, scripts on every master), outside any window.
    const base = single.receiver.count('fast');
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, lane) => {
        for (let i = 0; i < 40; i++)
          await clients.cluster.push(pushFor(targets.cluster[(lane + i) % REPOSITORIES]!, `w${lane}-${i}`));
      }),
    );
    await single.receiver.until(() => single.receiver.count('fast') - base >= CLIENTS * 40, 60_000);
    // Then one unmeasured phase at full load: the single-server stack has run every row
    // before this one, and V8 optimises the hot paths of fresh processes only after a few
    // thousand runs (round 1 was the slowest of the rounds without it).
    await saturate(onCluster, {
      concurrency: CLIENTS,
      cap: 1000,
      fanout: 1,
      sink: single.receiver,
      labels: ['fast'],
      send: (seq) => clients.cluster.push(pushFor(targets.cluster[seq % REPOSITORIES]!, `u${seq % 1000}`)),
    });

    const rounds: Array<Record<string, number | string>> = [];
    const cpuRatioRounds: Array<Record<string, number | string>> = [];
    const cpuRounds: Array<{ which: string; perUnit: Record<string, number> }> = [];
    const shareRounds: Array<Record<string, number>> = [];
    const commandRounds: Array<{ which: string; perDelivery: Map<string, number> }> = [];
    const replicationRounds: number[] = [];
    const phases = ['single', 'cluster'] as const;
    for (let r = 0; r < single.options.rounds; r++) {
      const order: Array<(typeof phases)[number]> = r % 2 === 0 ? [...phases] : [...phases].reverse();
      const rates: Record<string, number> = {};
      const stackCpuMs: Record<string, number> = {};
      const errors: Record<string, number> = {};
      let shares: Record<string, number> = {};
      let clusterCommands = 0;
      for (const which of order) {
        single.setPhase(`cluster-row ${which} r${r + 1}`);
        const before = which === 'cluster' ? await masterCalls(masters) : undefined;
        const offsetsBefore = which === 'cluster' ? await replicationOffset(masters) : 0;
        const singleBefore = which === 'single' ? await commandCalls(single.redis) : undefined;
        const result = await saturate(contexts[which], {
          concurrency: CLIENTS,
          cap: 1000,
          fanout: 1,
          sink: single.receiver,
          labels: ['fast'],
          send: (seq) => clients[which].push(pushFor(targets[which][seq % REPOSITORIES]!, `v${seq % 1000}`)),
        });
        rates[which] = result.rate;
        errors[which] = result.errors;
        cpuRounds.push({ which, perUnit: groupRedis(result.cpuMsPerUnit) });
        stackCpuMs[which] = stackCpu(result.cpuMsPerUnit);
        const perDelivery = (calls: Map<string, number>) =>
          new Map([...calls].map(([name, count]) => [name, count / Math.max(1, result.accepted)]));
        if (singleBefore) {
          const delta = diffCalls(singleBefore, await commandCalls(single.redis));
          delta.delete('info');
          commandRounds.push({ which, perDelivery: perDelivery(delta) });
        }
        if (before) {
          replicationRounds.push(
            ((await replicationOffset(masters)) - offsetsBefore) / Math.max(1, result.accepted),
          );
          const after = await masterCalls(masters);
          const deltas = [...masters.keys()].map((port) => {
            const delta = diffCalls(before.get(port) ?? new Map(), after.get(port) ?? new Map());
            delta.delete('info');
            return [port, delta] as const;
          });
          const all = new Map<string, number>();
          for (const [, delta] of deltas)
            for (const [name, count] of delta) all.set(name, (all.get(name) ?? 0) + count);
          commandRounds.push({ which, perDelivery: perDelivery(all) });
          const perMaster = deltas.map(([port, delta]) => [port, totalOf(delta)] as const);
          clusterCommands = perMaster.reduce((sum, [, count]) => sum + count, 0);
          shares = Object.fromEntries(
            perMaster.map(([port, count]) => [
              `master:${port}`,
              round(count / Math.max(1, clusterCommands), 3),
            ]),
          );
        }
      }
      const ratio = rates.cluster! / rates.single!;
      const shareValues = Object.values(shares);
      rounds.push({
        round: r + 1,
        product: Math.round(rates.cluster!),
        baseline: Math.round(rates.single!),
        ratio: round(ratio),
        minShare: round(Math.min(...shareValues), 3),
        maxShare: round(Math.max(...shareValues), 3),
        clusterCommands,
        failedRequests: (errors.cluster ?? 0) + (errors.single ?? 0),
      });
      cpuRatioRounds.push({
        round: r + 1,
        product: stackCpuMs.cluster!,
        baseline: stackCpuMs.single!,
        ratio: round(stackCpuMs.cluster! / stackCpuMs.single!),
        loadAverage: round(loadavg()[0]!, 2),
        failedRequests: (errors.cluster ?? 0) + (errors.single ?? 0),
      });
      shareRounds.push(shares);
      single.log(
        `  cluster round ${r + 1}: single ${fmt(rates.single!)} /s, cluster ${fmt(rates.cluster!)} deliveries/s; master shares ${shareValues.map((s) => `${(s * 100).toFixed(0)}%`).join(' / ')}; stack CPU ${stackCpuMs.single} / ${stackCpuMs.cluster} ms per delivery (load ${loadavg()[0]!.toFixed(2)})`,
      );
    }
    await clients.single.close();
    await clients.cluster.close();

    const ratio = median(rounds.map((x) => x.ratio as number));
    const med = (key: string) => median(rounds.map((x) => x[key] as number));
    const masterShares = Object.fromEntries(
      Object.keys(shareRounds[0] ?? {}).map((key) => [
        key,
        round(median(shareRounds.map((s) => s[key] ?? 0)), 3),
      ]),
    );
    // Where the machine's CPU goes per delivery, on each side: what explains the ratio.
    const cpuMsPerDelivery = Object.fromEntries(
      phases.map((which) => {
        const mine = cpuRounds.filter((c) => c.which === which).map((c) => c.perUnit);
        const names = Object.keys(mine[0] ?? {});
        return [
          which,
          Object.fromEntries(names.map((name) => [name, round(median(mine.map((c) => c[name] ?? 0)), 3)])),
        ];
      }),
    );
    // Redis commands per delivery by name on each side (all masters summed): what the
    // cluster adds (the replica WAITs and their fences, the claim checks) beside the same work.
    const commandsPerDelivery = Object.fromEntries(
      phases.map((which) => {
        const mine = commandRounds.filter((c) => c.which === which).map((c) => c.perDelivery);
        const names = [...new Set(mine.flatMap((m) => [...m.keys()]))];
        const medians = names
          .map((name) => [name, round(median(mine.map((m) => m.get(name) ?? 0)), 2)] as const)
          .filter(([, value]) => value >= 0.05)
          .sort((a, b) => b[1] - a[1]);
        const total = round(
          medians.reduce((sum, [, value]) => sum + value, 0),
          1,
        );
        return [which, { total, ...Object.fromEntries(medians) }];
      }),
    );
    const replicationBytesPerDelivery = Math.round(median(replicationRounds));
    const shareList = Object.values(masterShares);
    const even = shareList.length === PARTITIONS && shareList.every((s) => s >= 0.2 && s <= 0.47);
    const cpuRatio = median(cpuRatioRounds.map((x) => x.ratio as number));
    const medCpu = (key: string) => median(cpuRatioRounds.map((x) => x[key] as number));
    const withReplica = single.options.singleReplica;
    const cpuRow: RowResult = {
      id: 'e2e-cluster-cpu',
      figure:
        'CPU per delivery of the stack (api + worker + all six redis-servers) on the Redis Cluster, same load and windows as e2e-cluster',
      value: `${fmt(medCpu('product'), 2)} ms per delivery`,
      baseline: withReplica
        ? `one server with a replica, same waits (api + worker + both redis-servers): ${fmt(medCpu('baseline'), 2)} ms`
        : `one server WITHOUT a replica or waits: ${fmt(medCpu('baseline'), 2)} ms (not the target's baseline: run with --single-replica)`,
      ratio: round(cpuRatio),
      target: '<= 1.3x of one server with a replica and the same waits',
      met: withReplica ? cpuRatio <= 1.3 : null,
      rounds: cpuRatioRounds,
      details: { cpuMsPerDelivery },
      notes: [
        'CPU: utime + stime of each process (/proc) over the measured window of each phase, divided by the deliveries of that window; the receiver and the load generator are left out, both sides run the same ones.',
        'ratio: median of the per-round ratios (cluster / one server of the same round); loadAverage: the 1-minute load average at the end of the round.',
        'The cluster waits as its defaults say: INGEST_MIN_REPLICAS=1 and DELIVERY_MIN_REPLICAS=1; --single-replica sets the same on the one server, whose replica is one more redis-server.',
      ],
    };
    const throughputRow: RowResult = {
      id: 'e2e-cluster',
      figure: `end-to-end deliveries/s on a Redis Cluster (3 masters, QUEUE_PARTITIONS=${PARTITIONS}), one ALL trigger, ${REPOSITORIES} repositories; share of commands per master`,
      value: `${fmt(med('product'))} deliveries/s; masters ${shareList.map((s) => `${(s * 100).toFixed(0)}%`).join(' / ')}`,
      baseline: `one server${single.options.singleReplica ? ' with a replica, same waits' : ''}, same load: ${fmt(med('baseline'))} deliveries/s`,
      ratio: round(ratio),
      target: '>= 0.8x, each master 20-47% of commands',
      met: ratio >= 0.8 && even,
      rounds,
      details: {
        masterShares,
        cpuMsPerDelivery,
        commandsPerDelivery,
        replicationBytesPerDelivery,
        partitions: PARTITIONS,
        repositories: REPOSITORIES,
      },
      notes: [
        'details.cpuMsPerDelivery: CPU milliseconds each process (the six redis-servers summed as masters and replicas) spent per delivery in the measured windows, median of rounds.',
        'Both stacks run side by side (the idle one costs almost nothing) and the order of the two phases alternates between rounds; the receiver is shared.',
        'details.commandsPerDelivery: Redis commands per accepted delivery by name (INFO commandstats over the phase: warm-up, window and drain; commands run by scripts counted under their own names too), median of rounds; the cluster side sums its masters.',
        'details.replicationBytesPerDelivery: bytes of replication stream the masters produced per accepted delivery (INFO replication master_repl_offset over the phase), median of rounds.',
        'Shares: INFO commandstats on each master (INFO itself left out) before and after the cluster phase (warm-up, window and drain), commands a script runs included; replicas are not counted.',
        `The cluster api waits for one replica before its 202 and the cluster worker before each send and each completion (INGEST_MIN_REPLICAS and DELIVERY_MIN_REPLICAS default to 1 on a cluster); ${single.options.singleReplica ? "so do the single server's apps, for its one replica (--single-replica)." : 'the single server waits for none (--single-replica compares with one server that has a replica and the same waits).'}`,
      ],
    };
    return [throughputRow, cpuRow];
  } finally {
    for (const redis of masters.values()) redis.disconnect();
    for (const app of processes.reverse()) await stopApp(app, 40_000);
    await cluster.stop();
  }
}

/** Sums the per-node CPU of the cluster's redis-servers into masters and replicas. */
function groupRedis(perUnit: Record<string, number>): Record<string, number> {
  const grouped: Record<string, number> = {};
  for (const [name, ms] of Object.entries(perUnit)) {
    const key = name.startsWith('redis-master-')
      ? 'redis masters'
      : name.startsWith('redis-replica-')
        ? 'redis replicas'
        : name;
    grouped[key] = round((grouped[key] ?? 0) + ms, 3);
  }
  return grouped;
}
