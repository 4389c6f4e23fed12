/**
 * The whole product on a Redis Cluster (3 masters, 3 replicas, local `redis-server`): the
 * api, worker and logs apps as real processes configured with REDIS_CLUSTER_NODES and
 * several queue partitions, plus what a cluster test needs to see where keys live.
 */
import type { AccessRecord } from '@registry-triggers/core';
import {
  createRedis,
  keys,
  PartitionedQueue,
  type QueueName,
  queueNames,
  type RedisConnection,
} from '@registry-triggers/store';
import {
  type ClusterHandle,
  type RedisHandle,
  redisCommand,
  startRedisCluster,
  waitFor,
} from '@registry-triggers/testing';
import { type Stack, type StackOptions, startStack } from './stack.js';

export interface ClusterStackOptions extends Omit<StackOptions, 'redis'> {
  /**
   * QUEUE_PARTITIONS for every app; default 3, one per master. `'unset'`: no
   * QUEUE_PARTITIONS, the apps derive the count from the masters.
   */
  partitions?: number | 'unset';
}

export interface ClusterStack extends Stack {
  cluster: ClusterHandle;
  partitions: number;
  /** The slot of a key and the port of the master that owns it now. */
  slotOwner(key: string): Promise<{ slot: number; port: number }>;
  /** Where each partition of a queue lives: slot and owning master, by partition. */
  partitionOwners(queue?: QueueName): Promise<Array<{ partition: number; slot: number; port: number }>>;
  /**
   * Waits until no job of either queue is waiting, active, delayed or prioritized, on two
   * reads in a row: after it, nothing more is sent for what was pushed before.
   */
  waitForIdleQueues(timeoutMs?: number): Promise<void>;
  /** Every record of one trigger, newest first, following cursors. */
  allRecords(namespace: string, repository: string, triggerId: string): Promise<AccessRecord[]>;
}

const HOST = '127.0.0.1';

export async function startClusterStack(options: ClusterStackOptions = {}): Promise<ClusterStack> {
  const setting = options.partitions ?? 3;
  const cluster = await startRedisCluster();
  try {
    const seed = cluster.nodes[0]!;
    // The stack's "Redis" is a seed node: REDIS_CLUSTER_NODES wins over REDIS_URL in every
    // app, and the cluster is stopped here, not by the stack.
    const seedHandle: RedisHandle = {
      url: `redis://${HOST}:${seed.port}`,
      host: HOST,
      port: seed.port,
      kind: 'local',
      stop: async () => {},
    };
    const stack = await startStack({
      ...options,
      redis: seedHandle,
      env: {
        REDIS_CLUSTER_NODES: cluster.seeds,
        ...(setting === 'unset' ? {} : { QUEUE_PARTITIONS: String(setting) }),
        ...options.env,
      },
    });
    const slotOwner = async (key: string) => {
      const node = cluster.nodes[0]!;
      const slot = Number(await redisCommand(HOST, node.port, ['CLUSTER', 'KEYSLOT', key]));
      const owners = await slotOwners(node.port);
      const owner = owners.find((candidate) =>
        candidate.slots.some(([from, to]) => slot >= from && slot <= to),
      );
      if (!owner) throw new Error(`no master owns slot ${slot}`);
      return { slot, port: owner.port };
    };
    // The test's own view of the queues, through the product's connection factory.
    const inspector: RedisConnection = createRedis(
      { REDIS_URL: seedHandle.url, REDIS_CLUSTER_NODES: cluster.seeds },
      { role: 'worker', name: 'e2e-inspector' },
    );
    inspector.on('error', () => {});
    // Unset: the count the apps recorded once they started (partitions.ts).
    const partitions = setting === 'unset' ? Number(await inspector.get(keys.queuePartitions())) : setting;
    const queues = [queueNames.pushEvents, queueNames.deliveries].map(
      (name) => new PartitionedQueue(name, partitions, inspector),
    );
    const stopApps = stack.stop;
    return Object.assign(stack, {
      cluster,
      partitions,
      slotOwner,
      async partitionOwners(queue: QueueName = queueNames.pushEvents) {
        return Promise.all(
          Array.from({ length: partitions }, async (_, partition) => ({
            partition,
            ...(await slotOwner(keys.queuePrefix(queue, partition))),
          })),
        );
      },
      async waitForIdleQueues(timeoutMs = 30_000) {
        let idleReads = 0;
        await waitFor(
          async () => {
            const counts = await Promise.all(
              queues.flatMap((queue) =>
                queue.partitions.map((partition) =>
                  partition.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children'),
                ),
              ),
            );
            const pending = counts.reduce(
              (sum, count) => sum + Object.values(count).reduce((a, b) => a + b, 0),
              0,
            );
            idleReads = pending === 0 ? idleReads + 1 : 0;
            return idleReads >= 2;
          },
          { timeoutMs, intervalMs: 100, message: 'both queues idle on every partition' },
        );
      },
      async allRecords(namespace: string, repository: string, triggerId: string) {
        const records: AccessRecord[] = [];
        let cursor: string | null = null;
        do {
          const query = new URLSearchParams({ limit: '200', ...(cursor ? { cursor } : {}) });
          const page = await stack.logsCall(
            `/v1/namespaces/${namespace}/repositories/${encodeURIComponent(repository)}/triggers/${triggerId}/records?${query}`,
          );
          if (page.status !== 200) throw new Error(`records: ${page.status} ${JSON.stringify(page.body)}`);
          records.push(...page.body.records);
          cursor = page.body.nextCursor;
        } while (cursor);
        return records;
      },
      async stop() {
        await Promise.all(queues.map((queue) => queue.close()));
        inspector.disconnect();
        await stopApps();
        await cluster.stop();
      },
    });
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

/** Masters that own slots, from CLUSTER NODES as one node sees them. */
async function slotOwners(port: number): Promise<Array<{ port: number; slots: Array<[number, number]> }>> {
  const text = String(await redisCommand(HOST, port, ['CLUSTER', 'NODES']));
  return text
    .trim()
    .split('\n')
    .flatMap((line) => {
      // <id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slot>...
      const fields = line.trim().split(' ');
      const flags = fields[2]?.split(',') ?? [];
      if (!flags.includes('master') || flags.includes('fail')) return [];
      const slots = fields
        .slice(8)
        .filter((range) => !range.startsWith('['))
        .map((range): [number, number] => {
          const [from, to] = range.split('-').map(Number);
          return [from!, to ?? from!];
        });
      const nodePort = Number(fields[1]?.split('@')[0]?.split(':').pop());
      return slots.length > 0 ? [{ port: nodePort, slots }] : [];
    });
}
