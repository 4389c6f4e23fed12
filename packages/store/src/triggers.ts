/** Triggers of one repository, kept in one hash so evaluation reads them in one command. */
import type { Trigger } from '@registry-triggers/core';
import type { RedisConnection } from './connection.js';
import { keys } from './keys.js';
import {
  CREATE_REPOSITORY_LUA,
  createRepositoryArgs,
  pairsToHash,
  parseRepository,
  type Repository,
} from './repositories.js';
import { runScript } from './scripts.js';
import { MAX_TRACKED_TAGS, MOVE_TAG_DIGEST_LUA, pushMark, TAG_DIGEST_TTL_MS } from './tag-digests.js';

export class TriggerLimitError extends Error {
  constructor(readonly limit: number) {
    super(`a repository holds at most ${limit} triggers`);
    this.name = 'TriggerLimitError';
  }
}

// Adds a trigger unless the repository is full; answers -1 when full.
const CREATE_SCRIPT = `
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;

// Replaces a trigger only if it still exists.
const REPLACE_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;

// Disables a trigger with a reason, keeping everything else as it is.
const DISABLE_SCRIPT = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local trigger = cjson.decode(raw)
trigger['enabled'] = false
trigger['disabledReason'] = ARGV[2]
trigger['updatedAt'] = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(trigger))
return 1`;

// What evaluation needs, in one round trip: the repository (created on first push), its
// triggers and, when a push is given (KEYS[4]), the tag's previous digest as it moves the tag.
const CONTEXT_SCRIPT = `${CREATE_REPOSITORY_LUA}
${MOVE_TAG_DIGEST_LUA}
createRepository()
local previous = false
if KEYS[4] then previous = moveTagDigest(KEYS[4], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10]) end
return { redis.call('HGETALL', KEYS[1]), redis.call('HVALS', KEYS[3]), previous }`;

export interface RepositoryContext {
  repository: Repository;
  triggers: Trigger[];
  /**
   * The digest the pushed tag had before this push; null for its first push (or one whose
   * digest is unknown), undefined when no push was given.
   */
  previousDigest?: string | null;
}

/** The push an evaluation moves its tag for. */
export interface TagMove {
  tag: string;
  digest: string;
  eventId: string;
  receivedAt: number;
}

export class TriggerStore {
  constructor(private readonly redis: RedisConnection) {}

  async create(trigger: Trigger, limit: number): Promise<void> {
    const result = await runScript(
      this.redis,
      CREATE_SCRIPT,
      [keys.triggers(trigger.namespace, trigger.repository)],
      [trigger.id, JSON.stringify(trigger), limit],
    );
    if (result === -1) throw new TriggerLimitError(limit);
  }

  async replace(trigger: Trigger): Promise<boolean> {
    const result = await runScript(
      this.redis,
      REPLACE_SCRIPT,
      [keys.triggers(trigger.namespace, trigger.repository)],
      [trigger.id, JSON.stringify(trigger)],
    );
    return result === 1;
  }

  async get(namespace: string, repository: string, id: string): Promise<Trigger | undefined> {
    const raw = await this.redis.hget(keys.triggers(namespace, repository), id);
    return raw ? (JSON.parse(raw) as Trigger) : undefined;
  }

  async list(namespace: string, repository: string): Promise<Trigger[]> {
    const values = await this.redis.hvals(keys.triggers(namespace, repository));
    return values.map((raw) => JSON.parse(raw) as Trigger).sort((a, b) => a.createdAt - b.createdAt);
  }

  async delete(namespace: string, repository: string, id: string): Promise<boolean> {
    return (await this.redis.hdel(keys.triggers(namespace, repository), id)) === 1;
  }

  async disable(
    namespace: string,
    repository: string,
    id: string,
    reason: string,
    now: number,
  ): Promise<boolean> {
    const result = await runScript(
      this.redis,
      DISABLE_SCRIPT,
      [keys.triggers(namespace, repository)],
      [id, reason, now],
    );
    return result === 1;
  }

  /**
   * The repository (created now if this is its first push) and all of its triggers; with a
   * push, also moves its tag to the pushed digest and answers the one it had (tag-digests.ts).
   */
  async loadContext(
    namespace: string,
    repository: string,
    pushedAt: number,
    push?: TagMove,
  ): Promise<RepositoryContext> {
    const create = createRepositoryArgs(namespace, repository, pushedAt);
    const scriptKeys = [...create.keys, keys.triggers(namespace, repository)];
    const args: Array<string | number> = [...create.args];
    if (push) {
      scriptKeys.push(keys.tagDigests(namespace, repository));
      args.push(
        push.tag,
        push.digest,
        pushMark(push.eventId, push.receivedAt),
        MAX_TRACKED_TAGS,
        TAG_DIGEST_TTL_MS,
      );
    }
    const [repoPairs, triggerValues, previous] = (await runScript(
      this.redis,
      CONTEXT_SCRIPT,
      scriptKeys,
      args,
    )) as [string[], string[], string | null];
    return {
      repository: parseRepository(namespace, repository, pairsToHash(repoPairs)),
      triggers: triggerValues
        .map((raw) => JSON.parse(raw) as Trigger)
        .sort((a, b) => a.createdAt - b.createdAt),
      ...(push ? { previousDigest: previous || null } : {}),
    };
  }
}
