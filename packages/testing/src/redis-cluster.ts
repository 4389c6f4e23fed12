// A real Redis Cluster (3 masters, 3 replicas) from the local `redis-server` binary, for
// tests of cluster mode and of surviving a master failover.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { spawnTracked, stopChild, type TrackedChild, waitUntilReady } from './child-process.js';
import { trackDir, untrackDir } from './cleanup.js';
import { getFreePorts, retryOnAddressInUse } from './free-port.js';
import { redisCommand, redisInfo, redisPing } from './redis-command.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);
const HOST = '127.0.0.1';

export interface ClusterNode {
  host: string;
  port: number;
  role: 'master' | 'replica';
  pid: number;
}

export interface ClusterHandle {
  /** The nodes still running, with their current roles. */
  readonly nodes: ClusterNode[];
  /** Every node as `host:port,host:port,...` (the REDIS_CLUSTER_NODES format). */
  readonly seeds: string;
  /** SIGKILLs the master owning the slot of `slotOwnerOfKey` (default: any master). */
  killMaster(slotOwnerOfKey?: string): Promise<{ port: number }>;
  /** Resolves once replicas own every slot of the killed masters and every node says cluster_state:ok. */
  waitForFailover(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface StartRedisClusterOptions {
  /** Only the usual shape is supported: 3 masters with one replica each. */
  masters?: 3;
  replicasPerMaster?: 1;
}

interface RunningNode {
  port: number;
  process: TrackedChild;
  role: 'master' | 'replica';
  killed: boolean;
}

export async function startRedisCluster(_options: StartRedisClusterOptions = {}): Promise<ClusterHandle> {
  const nodeCount = 6;
  const dir = await mkdtemp(join(tmpdir(), 'rt-redis-cluster-'));
  trackDir(dir);
  let nodes: RunningNode[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => stopChild(node.process, { signal: 'SIGTERM', timeoutMs: 5000 })));
    await rm(dir, { recursive: true, force: true });
    untrackDir(dir);
  };

  try {
    nodes = await startNodes(dir, nodeCount);
    const addresses = nodes.map((node) => `${HOST}:${node.port}`);
    await run(
      'redis-cli',
      ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'],
      {
        timeout: 30_000,
      },
    );
    // A replica can only take over once it has synced with its master: wait for that, or
    // a failover test started right away leaves the slots down for good.
    await waitFor(
      async () => {
        const states = await Promise.all(nodes.map((node) => nodeState(node.port)));
        const ok = states.every((state) => state.clusterOk);
        const syncedReplicas = states.filter((state) => state.role === 'replica' && state.linkUp).length;
        return ok && syncedReplicas === nodeCount / 2;
      },
      {
        timeoutMs: 30_000,
        intervalMs: 100,
        message: 'cluster_state:ok everywhere and every replica in sync',
      },
    );
    await refreshRoles(nodes);
  } catch (error) {
    await stop();
    throw error;
  }

  const live = () => nodes.filter((node) => !node.killed);
  return {
    get nodes() {
      return live().map((node) => ({ host: HOST, port: node.port, role: node.role, pid: node.process.pid }));
    },
    seeds: nodes.map((node) => `${HOST}:${node.port}`).join(','),
    async killMaster(slotOwnerOfKey) {
      const someone = live()[0];
      if (!someone) throw new Error('no cluster node is running');
      const owners = await slotOwners(someone.port);
      let port: number | undefined;
      if (slotOwnerOfKey === undefined) {
        port = owners.find((owner) => live().some((node) => node.port === owner.port))?.port;
      } else {
        const slot = Number(await redisCommand(HOST, someone.port, ['CLUSTER', 'KEYSLOT', slotOwnerOfKey]));
        port = owners.find((owner) => owner.slots.some(([from, to]) => slot >= from && slot <= to))?.port;
      }
      const victim = live().find((node) => node.port === port);
      if (!victim) throw new Error(`no running master found for ${slotOwnerOfKey ?? 'any slot'}`);
      victim.killed = true;
      await stopChild(victim.process, { signal: 'SIGKILL', timeoutMs: 5000 });
      return { port: victim.port };
    },
    async waitForFailover(timeoutMs = 30_000) {
      const killed = new Set(nodes.filter((node) => node.killed).map((node) => node.port));
      // Right after the kill the survivors still report cluster_state:ok (they have not
      // noticed yet), so also require that no killed node owns a slot any more.
      await waitFor(
        async () => {
          for (const node of live()) {
            const state = await nodeState(node.port);
            if (!state.clusterOk) return false;
            const owners = await slotOwners(node.port);
            if (owners.some((owner) => killed.has(owner.port))) return false;
          }
          return true;
        },
        { timeoutMs, intervalMs: 100, message: `failover of the killed master(s) ${[...killed].join(', ')}` },
      );
      await refreshRoles(live());
    },
    stop,
  };
}

function startNodes(dir: string, count: number): Promise<RunningNode[]> {
  return retryOnAddressInUse(async () => {
    // Bus ports are chosen too: the default (port + 10000) may be above 65535 or taken.
    const ports = await getFreePorts(count * 2);
    const started: RunningNode[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const port = ports[i]!;
        const nodeDir = join(dir, `node-${port}`);
        await mkdir(nodeDir, { recursive: true });
        // biome-ignore format: one flag and its value per line
        const server = await spawnTracked('redis-server', [
          '--port', String(port),
          '--cluster-port', String(ports[count + i]),
          '--bind', HOST,
          '--protected-mode', 'no',
          '--dir', nodeDir,
          '--cluster-enabled', 'yes',
          '--cluster-config-file', join(nodeDir, 'nodes.conf'),
          '--cluster-node-timeout', '2000',
          '--repl-diskless-sync-delay', '0',
          '--appendonly', 'no',
          '--save', '',
          '--daemonize', 'no',
        ]);
        started.push({ port, process: server, role: 'master', killed: false });
      }
      await Promise.all(
        started.map((node) =>
          waitUntilReady(node.process, () => redisPing(HOST, node.port), {
            label: `cluster node on port ${node.port}`,
            awaiting: () => 'PING to answer PONG',
          }),
        ),
      );
      return started;
    } catch (error) {
      await Promise.all(
        started.map((node) => stopChild(node.process, { signal: 'SIGKILL', timeoutMs: 5000 })),
      );
      throw error;
    }
  });
}

async function nodeState(port: number): Promise<{ clusterOk: boolean; role: string; linkUp: boolean }> {
  const cluster = await redisInfo(HOST, port, ['CLUSTER', 'INFO']);
  const replication = await redisInfo(HOST, port, ['INFO', 'replication']);
  return {
    clusterOk: cluster.get('cluster_state') === 'ok',
    role: replication.get('role') === 'slave' ? 'replica' : 'master',
    linkUp: replication.get('master_link_status') === 'up',
  };
}

async function refreshRoles(nodes: RunningNode[]): Promise<void> {
  for (const node of nodes)
    node.role = (await nodeState(node.port)).role === 'replica' ? 'replica' : 'master';
}

/** Masters that own slots, from CLUSTER NODES as this node sees them. */
async function slotOwners(port: number): Promise<Array<{ port: number; slots: Array<[number, number]> }>> {
  const text = String(await redisCommand(HOST, port, ['CLUSTER', 'NODES']));
  const owners: Array<{ port: number; slots: Array<[number, number]> }> = [];
  for (const line of text.trim().split('\n')) {
    // <id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slot>...
    const fields = line.trim().split(' ');
    const flags = fields[2]?.split(',') ?? [];
    if (!flags.includes('master')) continue;
    const slots = fields
      .slice(8)
      .filter((range) => !range.startsWith('['))
      .map((range): [number, number] => {
        const [from, to] = range.split('-').map(Number);
        return [from!, to ?? from!];
      });
    if (slots.length === 0) continue;
    const nodePort = Number(fields[1]?.split('@')[0]?.split(':').pop());
    owners.push({ port: nodePort, slots });
  }
  return owners;
}
