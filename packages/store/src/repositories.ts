/** Repositories: the metadata that goes into the payload, created on first push. */
import type { RepoType } from '@registry-triggers/core';
import type { RedisConnection } from './connection.js';
import { keys } from './keys.js';
import { QuotaExceededError } from './quotas.js';
import { defineScript } from './scripts.js';

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
 * Lua shared by every script that may create a repository: the repository hash, the
 * namespace's repository index, the time, repoType, authenticationType, originType and the
 * name. Answers 1 when it created it, 0 when it existed.
 */
export const CREATE_REPOSITORY_LUA = `
local function createRepository(repositoryKey, indexKey, createdAt, repoType, authenticationType, originType, name)
  if redis.call('EXISTS', repositoryKey) == 1 then return 0 end
  redis.call('HSET', repositoryKey, 'createdAt', createdAt, 'updatedAt', createdAt, 'repoType', repoType,
    'authenticationType', authenticationType, 'originType', originType)
  redis.call('ZADD', indexKey, 0, name)
  return 1
end`;

/**
 * KEYS[1] and KEYS[2] (repository hash, index) and ARGV[1..5] (time, the three metadata
 * fields, name) of a script that calls CREATE_REPOSITORY_LUA as CREATE_FROM_ARGS does, for a
 * repository created with default metadata.
 */
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

/** The call of createRepository on the KEYS and ARGV that createRepositoryArgs lays out. */
export const CREATE_FROM_ARGS =
  'createRepository(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])';

/**
 * Every repository of one namespace a request pushes to, in one script (one slot, one round
 * trip): KEYS[1] the index, KEYS[2..] the repository hashes; ARGV[1] the namespace's
 * repository quota, ARGV[2..4] the default metadata, then name and creation time per
 * repository. Answers per repository 1 (created), 0 (existed) or -1 (refused: the namespace
 * is full).
 */
const ENSURE_MANY_SCRIPT = defineScript(
  'repositoryEnsureMany',
  `${CREATE_REPOSITORY_LUA}
local room = tonumber(ARGV[1]) - redis.call('ZCARD', KEYS[1])
local results = {}
for i = 2, #KEYS do
  local arg = 2 * i + 1
  if redis.call('EXISTS', KEYS[i]) == 1 then
    results[i - 1] = 0
  elseif room <= 0 then
    results[i - 1] = -1
  else
    results[i - 1] = createRepository(KEYS[i], KEYS[1], ARGV[arg + 1], ARGV[2], ARGV[3], ARGV[4], ARGV[arg])
    room = room - 1
  end
end
return results`,
);

// Sets metadata; answers 1 when the repository was created by this call, -1 when it does not
// exist and the namespace holds ARGV[6] (its quota) already.
const PUT_SCRIPT = defineScript(
  'repositoryPut',
  `${CREATE_REPOSITORY_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[6]) then return -1 end
local created = ${CREATE_FROM_ARGS}
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[1], 'repoType', ARGV[2], 'authenticationType', ARGV[3], 'originType', ARGV[4])
return created`,
);

// Answers 1 when there was a repository (or triggers left of one) to delete.
const DELETE_SCRIPT = defineScript(
  'repositoryDelete',
  `
local existed = redis.call('EXISTS', KEYS[1]) + redis.call('EXISTS', KEYS[3])
redis.call('DEL', KEYS[1], KEYS[3], KEYS[4], KEYS[6])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[5], ARGV[1])
if existed > 0 then return 1 end
return 0`,
);

function pairsToHash(pairs: string[]): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) hash[pairs[i]!] = pairs[i + 1]!;
  return hash;
}

/** A repository a push names, and the creation time it gets if this push is its first. */
export interface RepositoryToEnsure {
  namespace: string;
  name: string;
  createdAt: number;
}

const fullName = ({ namespace, name }: { namespace: string; name: string }) => `${namespace}/${name}`;

/** Repositories this process already made sure exist, so a busy one costs no script per push. */
const MAX_REMEMBERED_REPOSITORIES = 100_000;

export class RepositoryStore {
  private readonly ensured = new Set<string>();

  constructor(private readonly redis: RedisConnection) {}

  async get(namespace: string, name: string): Promise<Repository | undefined> {
    const hash = await this.redis.hgetall(keys.repository(namespace, name));
    return hash.createdAt ? parseRepository(namespace, name, hash) : undefined;
  }

  /**
   * Creates, with default metadata, the repositories of a request that do not exist yet (their
   * first push), while the namespace has room under `repositoriesPerNamespace`: one script per
   * namespace, all sent at once, so a request costs one round trip however many repositories
   * it names. Answers those this call created and those refused for the quota.
   */
  async ensureAll(
    repositories: readonly RepositoryToEnsure[],
    repositoriesPerNamespace: number,
  ): Promise<{ created: RepositoryToEnsure[]; refused: RepositoryToEnsure[] }> {
    // The common case (every push after a repository's first): nothing to ask Redis.
    if (repositories.every((repository) => this.ensured.has(fullName(repository))))
      return { created: [], refused: [] };
    const byNamespace = new Map<string, RepositoryToEnsure[]>();
    for (const repository of repositories) {
      if (this.ensured.has(fullName(repository))) continue;
      const group = byNamespace.get(repository.namespace) ?? [];
      if (group.length === 0) byNamespace.set(repository.namespace, group);
      group.push(repository);
    }
    const outcome = { created: [] as RepositoryToEnsure[], refused: [] as RepositoryToEnsure[] };
    await Promise.all(
      [...byNamespace].map(async ([namespace, group]) => {
        const results = (await ENSURE_MANY_SCRIPT.run(
          this.redis,
          [keys.repositoryIndex(namespace), ...group.map(({ name }) => keys.repository(namespace, name))],
          [
            repositoriesPerNamespace,
            DEFAULT_REPOSITORY_METADATA.repoType,
            DEFAULT_REPOSITORY_METADATA.authenticationType,
            DEFAULT_REPOSITORY_METADATA.originType,
            ...group.flatMap(({ name, createdAt }) => [name, createdAt]),
          ],
        )) as number[];
        group.forEach((repository, i) => {
          if (results[i] === -1) {
            outcome.refused.push(repository);
            return;
          }
          this.remember(fullName(repository));
          if (results[i] === 1) outcome.created.push(repository);
        });
      }),
    );
    return outcome;
  }

  private remember(name: string): void {
    if (this.ensured.size >= MAX_REMEMBERED_REPOSITORIES) this.ensured.clear();
    this.ensured.add(name);
  }

  /** Creates or updates; QuotaExceededError when it would create one over `repositoriesPerNamespace`. */
  async put(
    namespace: string,
    name: string,
    metadata: RepositoryMetadata,
    now: number,
    repositoriesPerNamespace: number,
  ): Promise<{ created: boolean; repository: Repository }> {
    const created = await PUT_SCRIPT.run(
      this.redis,
      [keys.repository(namespace, name), keys.repositoryIndex(namespace)],
      [
        String(now),
        metadata.repoType,
        metadata.authenticationType ?? DEFAULT_REPOSITORY_METADATA.authenticationType,
        metadata.originType ?? DEFAULT_REPOSITORY_METADATA.originType,
        name,
        repositoriesPerNamespace,
      ],
    );
    if (created === -1) throw new QuotaExceededError('repositoriesPerNamespace', repositoriesPerNamespace);
    const repository = await this.get(namespace, name);
    if (!repository) throw new Error(`repository ${namespace}/${name} vanished after write`);
    return { created: created === 1, repository };
  }

  /**
   * Deletes the repository and its triggers (deliveries still queued for them end
   * TRIGGER_DELETED); its access-log records stay until retention. False when it did not exist.
   */
  async delete(namespace: string, name: string): Promise<boolean> {
    this.ensured.delete(fullName({ namespace, name }));
    const result = await DELETE_SCRIPT.run(
      this.redis,
      [
        keys.repository(namespace, name),
        keys.repositoryIndex(namespace),
        keys.triggers(namespace, name),
        keys.triggerHealth(namespace, name),
        keys.triggerCounts(namespace),
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
