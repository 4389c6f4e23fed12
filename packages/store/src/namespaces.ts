/**
 * The namespaces there are, for the global admin. No index is kept for them (every write
 * stays in its namespace's slot, and data written before this existed is found too): the
 * keys of every master are scanned for namespaces holding repositories or tokens. That
 * costs a walk of the keyspace, which only this admin listing pays.
 */
import { Cluster } from 'ioredis';
import type { RedisConnection } from './connection.js';
import { keys } from './keys.js';

export interface NamespaceSummary {
  name: string;
  repositories: number;
  triggers: number;
}

const NAMESPACE_KEY = /^rt:\{ns:([^}]+)\}:(?:repos|tokens)$/;

async function scanNames(node: Exclude<RedisConnection, Cluster>, found: Set<string>): Promise<void> {
  for (const pattern of ['rt:{ns:*}:repos', 'rt:{ns:*}:tokens']) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const key of batch) {
        const name = NAMESPACE_KEY.exec(key)?.[1];
        if (name) found.add(name);
      }
    } while (cursor !== '0');
  }
}

/** Every namespace with a repository or a token, in name order, with its counts. */
export async function listNamespaces(redis: RedisConnection): Promise<NamespaceSummary[]> {
  const found = new Set<string>();
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  await Promise.all(nodes.map((node) => scanNames(node, found)));
  const names = [...found].sort();
  return Promise.all(
    names.map(async (name) => {
      const repositories = await redis.zrange(keys.repositoryIndex(name), 0, -1);
      let triggers = 0;
      if (repositories.length > 0) {
        const pipeline = redis.pipeline();
        for (const repository of repositories) pipeline.hlen(keys.triggers(name, repository));
        for (const [error, count] of (await pipeline.exec()) ?? []) {
          if (error) throw error;
          triggers += Number(count);
        }
      }
      return { name, repositories: repositories.length, triggers };
    }),
  );
}
