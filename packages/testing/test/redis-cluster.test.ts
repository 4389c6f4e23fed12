import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterHandle, startRedisCluster } from '../src/index.js';

describe('startRedisCluster', () => {
  let cluster: ClusterHandle;
  let client: Cluster;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = new Cluster(
      cluster.seeds.split(',').map((seed) => {
        const [host, port] = seed.split(':');
        return { host: host!, port: Number(port) };
      }),
    );
  });

  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  it('forms 3 masters with one synced replica each', async () => {
    expect(cluster.nodes).toHaveLength(6);
    expect(cluster.nodes.filter((node) => node.role === 'master')).toHaveLength(3);
    expect(cluster.seeds.split(',')).toHaveLength(6);
    await client.set('{user:1}:name', 'ada');
    expect(await client.get('{user:1}:name')).toBe('ada');
  });

  it('fails over when the master of a key is killed', { timeout: 60_000 }, async () => {
    const key = '{ns:failover}:value';
    // Replication is asynchronous: WAIT, on the same connection as the write (a pipeline
    // goes to the key's master), holds until the replica has it.
    const results = await client.pipeline().set(key, 'kept').call('WAIT', '1', '2000').exec();
    expect(results?.map(([error, value]) => error ?? value)).toEqual(['OK', 1]);

    const { port } = await cluster.killMaster(key);
    expect(cluster.nodes.map((node) => node.port)).not.toContain(port);
    await cluster.waitForFailover();

    expect(cluster.nodes).toHaveLength(5);
    expect(cluster.nodes.filter((node) => node.role === 'master')).toHaveLength(3);
    expect(await client.get(key)).toBe('kept');
  });
});
