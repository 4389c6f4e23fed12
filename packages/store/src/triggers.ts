/** Triggers of one repository, kept in one hash so evaluation reads them in one command. */
import type { Trigger } from '@registry-triggers/core';
import type { RedisConnection } from './connection.js';
import { keys } from './keys.js';
import { type NamespaceQuotas, QuotaExceededError } from './quotas.js';
import {
  CREATE_FROM_ARGS,
  CREATE_REPOSITORY_LUA,
  createRepositoryArgs,
  pairsToHash,
  parseRepository,
  type Repository,
} from './repositories.js';
import { defineScript } from './scripts.js';
import { MAX_TRACKED_TAGS, MOVE_TAG_DIGEST_LUA, pushMark, TAG_DIGEST_TTL_MS } from './tag-digests.js';

/**
 * Adds a trigger unless its repository (KEYS[1]) holds ARGV[3] or the namespace ARGV[4]
 * already: answers -1 or -2 then, 1 once added. KEYS[2], the namespace's trigger counts, is
 * summed for the namespace; this repository's count is taken from its hash (HLEN), not from
 * KEYS[2], and written back, so a count missing (triggers from before the counts were kept)
 * or wrong is made right by the repository's next trigger write.
 */
const CREATE_SCRIPT = defineScript(
  'triggerCreate',
  `
local mine = redis.call('HLEN', KEYS[1])
if mine >= tonumber(ARGV[3]) then return -1 end
local total = mine
local counts = redis.call('HGETALL', KEYS[2])
for i = 1, #counts, 2 do
  if counts[i] ~= ARGV[5] then total = total + tonumber(counts[i + 1]) end
end
if total >= tonumber(ARGV[4]) then return -2 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[5], mine + 1)
return 1`,
);

// Deletes a trigger and rewrites its repository's count (ARGV[2]) in KEYS[2]; answers 1 if it existed.
const DELETE_SCRIPT = defineScript(
  'triggerDelete',
  `
local deleted = redis.call('HDEL', KEYS[1], ARGV[1])
local left = redis.call('HLEN', KEYS[1])
if left == 0 then redis.call('HDEL', KEYS[2], ARGV[2]) else redis.call('HSET', KEYS[2], ARGV[2], left) end
return deleted`,
);

// Replaces a trigger only if it still exists.
const REPLACE_SCRIPT = defineScript(
  'triggerReplace',
  `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`,
);

// Replaces a trigger only if it is still exactly as the caller read it (compare and set):
// 1 replaced, 0 gone, -1 changed meanwhile.
const REPLACE_IF_SCRIPT = defineScript(
  'triggerReplaceIf',
  `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
if raw ~= ARGV[3] then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`,
);

// Disables a trigger with a reason, keeping everything else as it is.
const DISABLE_SCRIPT = defineScript(
  'triggerDisable',
  `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local trigger = cjson.decode(raw)
trigger['enabled'] = false
trigger['disabledReason'] = ARGV[2]
trigger['updatedAt'] = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(trigger))
return 1`,
);

// What evaluation needs, in one round trip: the repository, its triggers and, when a push is
// given (KEYS[4]), the tag's previous digest as it moves the tag. Ingest owns the repository's
// creation (RepositoryStore.ensureAll, at the first push's time); this script only reads it,
// and makes it again (same defaults, this push's time) when it is missing: one deleted since
// ingest took the event, or a job queued without ingest. Reading first costs no EXISTS per push.
// No quota here: an event reaches evaluation only once ingest took it, its repository made then
// or before under REPOSITORIES_PER_NAMESPACE.
const CONTEXT_SCRIPT = defineScript(
  'triggerContext',
  `${CREATE_REPOSITORY_LUA}
${MOVE_TAG_DIGEST_LUA}
local repository = redis.call('HGETALL', KEYS[1])
if #repository == 0 then
  ${CREATE_FROM_ARGS}
  repository = redis.call('HGETALL', KEYS[1])
end
local previous = false
if KEYS[4] then previous = moveTagDigest(KEYS[4], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10]) end
return { repository, redis.call('HVALS', KEYS[3]), previous }`,
);

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

  /** Adds a trigger; QuotaExceededError when its repository or its namespace is full. */
  async create(
    trigger: Trigger,
    quotas: Pick<NamespaceQuotas, 'triggersPerRepository' | 'triggersPerNamespace'>,
  ): Promise<void> {
    const result = await CREATE_SCRIPT.run(
      this.redis,
      [keys.triggers(trigger.namespace, trigger.repository), keys.triggerCounts(trigger.namespace)],
      [
        trigger.id,
        JSON.stringify(trigger),
        quotas.triggersPerRepository,
        quotas.triggersPerNamespace,
        trigger.repository,
      ],
    );
    if (result === -1) throw new QuotaExceededError('triggersPerRepository', quotas.triggersPerRepository);
    if (result === -2) throw new QuotaExceededError('triggersPerNamespace', quotas.triggersPerNamespace);
  }

  async replace(trigger: Trigger): Promise<boolean> {
    const result = await REPLACE_SCRIPT.run(
      this.redis,
      [keys.triggers(trigger.namespace, trigger.repository)],
      [trigger.id, JSON.stringify(trigger)],
    );
    return result === 1;
  }

  /**
   * Replaces the trigger read as `read` (its stored JSON, from getVersioned) unless it changed
   * since: two read-modify-writes at once never lose one of the updates.
   */
  async replaceIfUnchanged(trigger: Trigger, read: string): Promise<'replaced' | 'gone' | 'changed'> {
    const result = await REPLACE_IF_SCRIPT.run(
      this.redis,
      [keys.triggers(trigger.namespace, trigger.repository)],
      [trigger.id, JSON.stringify(trigger), read],
    );
    return result === 1 ? 'replaced' : result === 0 ? 'gone' : 'changed';
  }

  /** The trigger and its stored JSON, the version replaceIfUnchanged compares with. */
  async getVersioned(
    namespace: string,
    repository: string,
    id: string,
  ): Promise<{ trigger: Trigger; version: string } | undefined> {
    const raw = await this.redis.hget(keys.triggers(namespace, repository), id);
    return raw ? { trigger: JSON.parse(raw) as Trigger, version: raw } : undefined;
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
    const deleted = await DELETE_SCRIPT.run(
      this.redis,
      [keys.triggers(namespace, repository), keys.triggerCounts(namespace)],
      [id, repository],
    );
    return deleted === 1;
  }

  async disable(
    namespace: string,
    repository: string,
    id: string,
    reason: string,
    now: number,
  ): Promise<boolean> {
    const result = await DISABLE_SCRIPT.run(
      this.redis,
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
    const [repoPairs, triggerValues, previous] = (await CONTEXT_SCRIPT.run(this.redis, scriptKeys, args)) as [
      string[],
      string[],
      string | null,
    ];
    return {
      repository: parseRepository(namespace, repository, pairsToHash(repoPairs)),
      triggers: triggerValues
        .map((raw) => JSON.parse(raw) as Trigger)
        .sort((a, b) => a.createdAt - b.createdAt),
      ...(push ? { previousDigest: previous || null } : {}),
    };
  }
}
