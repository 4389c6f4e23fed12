/** Repositories: the metadata that goes into the payload, created on first push. */
import type { RepoType } from '@registry-triggers/core';
import type { RedisConnection } from './connection.js';
import { keys } from './keys.js';
import { runScript } from './scripts.js';

export interface Repository {
  namespace: string;
  name: string;
  repoType: RepoType;
  authenticationType: string;
  originType: string;
  createdAt: number;
  updatedAt: number;
}

export interface RepositoryMetadata {
  repoType: RepoType;
  authenticationType?: string | undefined;
  originType?: string | undefined;
}

export const DEFAULT_REPOSITORY_METADATA = {
  repoType: 'PRIVATE',
  authenticationType: 'NO_CERTIFIED',
  originType: 'NO_CERTIFIED',
} as const;

export function parseRepository(namespace: string, name: string, hash: Record<string, string>): Repository {
  return {
    namespace,
    name,
    repoType: hash.repoType === 'PUBLIC' ? 'PUBLIC' : 'PRIVATE',
    authenticationType: hash.authenticationType ?? DEFAULT_REPOSITORY_METADATA.authenticationType,
    originType: hash.originType ?? DEFAULT_REPOSITORY_METADATA.originType,
    createdAt: Number(hash.createdAt),
    updatedAt: Number(hash.updatedAt ?? hash.createdAt),
  };
}

/**
 * Lua shared by every script that may create a repository: KEYS[1] the repository hash,
 * KEYS[2] the namespace's repository index; ARGV[1] the time, ARGV[2..4] repoType,
 * authenticationType and originType, ARGV[5] the name. Answers 1 when it created it.
 */
export const CREATE_REPOSITORY_LUA = `
local function createRepository()
  if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
  redis.call('HSET', KEYS[1], 'createdAt', ARGV[1], 'updatedAt', ARGV[1], 'repoType', ARGV[2],
    'authenticationType', ARGV[3], 'originType', ARGV[4])
  redis.call('ZADD', KEYS[2], 0, ARGV[5])
  return 1
end`;

/** KEYS and ARGV of CREATE_REPOSITORY_LUA for a repository created with default metadata. */
export function createRepositoryArgs(namespace: string, name: string, createdAt: number) {
  return {
    keys: [keys.repository(namespace, name), keys.repositoryIndex(namespace)],
    args: [
      createdAt,
      DEFAULT_REPOSITORY_METADATA.repoType,
      DEFAULT_REPOSITORY_METADATA.authenticationType,
      DEFAULT_REPOSITORY_METADATA.originType,
      name,
    ],
  };
}

const ENSURE_SCRIPT = `${CREATE_REPOSITORY_LUA}
return createRepository()`;

// Sets metadata; answers 1 when the repository was created by this call.
const PUT_SCRIPT = `${CREATE_REPOSITORY_LUA}
local created = createRepository()
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[1], 'repoType', ARGV[2], 'authenticationType', ARGV[3], 'originType', ARGV[4])
return created`;

// Answers 1 when there was a repository (or triggers left of one) to delete.
const DELETE_SCRIPT = `
local existed = redis.call('EXISTS', KEYS[1]) + redis.call('EXISTS', KEYS[3])
redis.call('DEL', KEYS[1], KEYS[3], KEYS[4], KEYS[5])
redis.call('ZREM', KEYS[2], ARGV[1])
if existed > 0 then return 1 end
return 0`;

function pairsToHash(pairs: string[]): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) hash[pairs[i]!] = pairs[i + 1]!;
  return hash;
}

/** Repositories this process already made sure exist, so a busy one costs no script per push. */
const MAX_REMEMBERED_REPOSITORIES = 100_000;

export class RepositoryStore {
  private readonly ensured = new Set<string>();

  constructor(private readonly redis: RedisConnection) {}

  async get(namespace: string, name: string): Promise<Repository | undefined> {
    const hash = await this.redis.hgetall(keys.repository(namespace, name));
    return hash.createdAt ? parseRepository(namespace, name, hash) : undefined;
  }

  /** Creates the repository with default metadata on its first push; true when this call created it. */
  async ensure(namespace: string, name: string, createdAt: number): Promise<boolean> {
    const key = `${namespace}/${name}`;
    if (this.ensured.has(key)) return false;
    const { keys: scriptKeys, args } = createRepositoryArgs(namespace, name, createdAt);
    const created = (await runScript(this.redis, ENSURE_SCRIPT, scriptKeys, args)) === 1;
    if (this.ensured.size >= MAX_REMEMBERED_REPOSITORIES) this.ensured.clear();
    this.ensured.add(key);
    return created;
  }

  async put(
    namespace: string,
    name: string,
    metadata: RepositoryMetadata,
    now: number,
  ): Promise<{ created: boolean; repository: Repository }> {
    const created = await runScript(
      this.redis,
      PUT_SCRIPT,
      [keys.repository(namespace, name), keys.repositoryIndex(namespace)],
      [
        String(now),
        metadata.repoType,
        metadata.authenticationType ?? DEFAULT_REPOSITORY_METADATA.authenticationType,
        metadata.originType ?? DEFAULT_REPOSITORY_METADATA.originType,
        name,
      ],
    );
    const repository = await this.get(namespace, name);
    if (!repository) throw new Error(`repository ${namespace}/${name} vanished after write`);
    return { created: created === 1, repository };
  }

  /**
   * Deletes the repository and its triggers (deliveries still queued for them end
   * TRIGGER_DELETED); its access-log records stay until retention. False when it did not exist.
   */
  async delete(namespace: string, name: string): Promise<boolean> {
    this.ensured.delete(`${namespace}/${name}`);
    const result = await runScript(
      this.redis,
      DELETE_SCRIPT,
      [
        keys.repository(namespace, name),
        keys.repositoryIndex(namespace),
        keys.triggers(namespace, name),
        keys.triggerHealth(namespace, name),
        keys.tagDigests(namespace, name),
      ],
      [name],
    );
    return result === 1;
  }

  /** Names in lexicographic order after `cursor`, at most `limit`. */
  async list(
    namespace: string,
    options: { limit: number; cursor?: string | undefined },
  ): Promise<{ repositories: Repository[]; nextCursor: string | null }> {
    const start = options.cursor ? `(${options.cursor}` : '-';
    const names = await this.redis.zrangebylex(
      keys.repositoryIndex(namespace),
      start,
      '+',
      'LIMIT',
      0,
      options.limit + 1,
    );
    const page = names.slice(0, options.limit);
    const pipeline = this.redis.pipeline();
    for (const name of page) pipeline.hgetall(keys.repository(namespace, name));
    const results = (await pipeline.exec()) ?? [];
    const repositories = page.flatMap((name, i) => {
      const hash = results[i]?.[1] as Record<string, string> | undefined;
      return hash?.createdAt ? [parseRepository(namespace, name, hash)] : [];
    });
    return { repositories, nextCursor: names.length > options.limit ? (page.at(-1) ?? null) : null };
  }
}

export { pairsToHash };
