/**
 * The access log in Redis streams. Each namespace has one stream holding whole records
 * (a record's id is its entry id); each trigger and each repository has an index stream
 * with the same entry ids and just the fields that queries filter on. All three live
 * under the namespace hash tag, so one script writes them atomically.
 */
import { randomUUID } from 'node:crypto';
import type { AccessRecord, RecordReason, RecordStatus } from '@registry-triggers/core';
import { z } from 'zod';
import type { RedisConnection } from './connection.js';
import { slotMaster, waitForReplicas } from './durability.js';
import { keys } from './keys.js';
import { defineScript } from './scripts.js';

export type NewAccessRecord = Omit<AccessRecord, 'id'>;

export const retentionEnvSchema = z.object({
  LOG_RETENTION_DAYS: z.coerce.number().positive().max(365).default(7),
  LOG_MAX_RECORDS_PER_NAMESPACE: z.coerce.number().int().min(100).default(100_000),
});

export interface Retention {
  maxAgeMs: number;
  maxRecordsPerNamespace: number;
}

export function retentionFromEnv(env: z.infer<typeof retentionEnvSchema>): Retention {
  return {
    maxAgeMs: env.LOG_RETENTION_DAYS * 24 * 3600 * 1000,
    maxRecordsPerNamespace: env.LOG_MAX_RECORDS_PER_NAMESPACE,
  };
}

export const defaultRetention: Retention = retentionFromEnv(retentionEnvSchema.parse({}));

// Approximate trimming (~) keeps the write path cheap: Redis trims whole macro nodes only.
// The log is trimmed by count in its XADD, and by age (MINID) only when its first record is
// older than maxAgeMs; the indexes follow its first id, so they are bounded by both caps too.
// An idle namespace expires whole once its newest record is older than maxAgeMs (the ttl
// argument); the expiry is renewed when the trigger index has lost 1% of it, not on every
// write. With a trigger-health key (KEYS[4]) a delivery attempt also tracks since when its
// trigger has failed without a success in between: one round trip for both.
//
// Exactly once: a write whose reply was lost (the master died and the client retried it on
// the promoted replica), or made again on purpose under the same write id (the untriggered
// record of a re-evaluated event), answers its first reply instead of adding the record
// twice. The replies live in two generations of one hash per namespace (the last two keys):
// a write looks its id up in both; a new write adds its reply to the current one, which
// replaces the previous one once it holds maxRecordsPerNamespace replies *and* the newest
// record of the previous one has left the log. So a reply outlives its record in the log
// (the hashes are renewed with the log too): while the first copy of a record can be read,
// a retry cannot add a second one, and a retry is recognized for at least the namespace's
// last maxRecordsPerNamespace writes. Once the record has left the log, adding it again
// leaves one copy, as the log keeps no older one. And the replies are bounded by retention,
// not by rate x time: a generation holds at most as many replies as the longest the log
// gets (maxRecordsPerNamespace plus one stream node, ~ trimming being approximate) or
// maxRecordsPerNamespace if that is more, so both hold at most twice that.
// The current generation's '' field (a write id is never empty) keeps "<replies> <first>
// <newest>": how many replies it holds, the log's first id as last read, and the newest
// record id it holds (in the previous generation, what a rotation waits for). Reading the
// first id every FIRST_ID_EVERY writes only (and after an age trim, and when a rotation
// waits for it) saves an XRANGE per append: a stale first id is older, so it trims the
// indexes a little less and delays a rotation, never the other way round.
// The old previous generation is UNLINKed (freed off the main thread) before the RENAME.
const FIRST_ID_EVERY = 64;
const APPEND_SCRIPT = defineScript(
  'recordAppend',
  `
local current, previous = KEYS[#KEYS - 1], KEYS[#KEYS]
local writeId, ttl, max = ARGV[#ARGV], tonumber(ARGV[#ARGV - 1]), tonumber(ARGV[2])
local here = redis.call('HMGET', current, writeId, '')
if here[1] then return cjson.decode(here[1]) end
local before = redis.call('HMGET', previous, writeId, '')
if before[1] then return cjson.decode(before[1]) end
local function split(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function older(a, b)
  local aMs, aSeq = split(a)
  local bMs, bSeq = split(b)
  return aMs < bMs or (aMs == bMs and aSeq < bSeq)
end
local function firstId() return redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1][1] end
local count, first = 0, nil
if here[2] then
  local n, known = string.match(here[2], '^(%d+) (%S+)')
  count, first = tonumber(n), known
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', max, '*', 'r', ARGV[3])
if not first or count % ${FIRST_ID_EVERY} == 0 then first = firstId() end
if split(first) < tonumber(ARGV[1]) then
  redis.call('XTRIM', KEYS[1], 'MINID', '~', ARGV[1])
  first = firstId()
end
redis.call('XADD', KEYS[2], 'MINID', '~', first, id, 's', ARGV[4], 'g', ARGV[5], 'r', ARGV[6])
redis.call('XADD', KEYS[3], 'MINID', '~', first, id, 's', ARGV[4], 'g', ARGV[5], 'r', ARGV[6])
local reply = { id }
if #KEYS == 6 then
  if ARGV[4] == 'succeeded' then
    redis.call('HDEL', KEYS[4], ARGV[7])
  else
    redis.call('HSETNX', KEYS[4], ARGV[7], ARGV[8])
    reply[2] = redis.call('HGET', KEYS[4], ARGV[7])
  end
end
count = count + 1
local rotate = false
if count >= max then
  local newest = before[2] and string.match(before[2], '(%S+)$')
  if newest and not older(newest, first) then first = firstId() end
  rotate = not newest or older(newest, first)
end
redis.call('HSET', current, writeId, cjson.encode(reply), '', count .. ' ' .. first .. ' ' .. id)
if redis.call('PTTL', KEYS[2]) < ttl - math.ceil(ttl / 100) then
  for _, key in ipairs({ KEYS[1], KEYS[2], KEYS[3], current, previous }) do
    redis.call('PEXPIRE', key, ttl)
  end
elseif count == 1 then
  redis.call('PEXPIRE', current, ttl)
end
if rotate then
  redis.call('UNLINK', previous)
  redis.call('RENAME', current, previous)
end
return reply`,
);

export interface RecordQuery {
  namespace: string;
  scope: { repository: string; triggerId?: string | undefined } | { all: true };
  limit: number;
  cursor?: string | undefined;
  status?: RecordStatus | undefined;
  reason?: RecordReason | undefined;
  tag?: string | undefined;
  /** Epoch ms bounds on the time a record was written, inclusive. */
  since?: number | undefined;
  until?: number | undefined;
}

export interface RecordPage {
  records: AccessRecord[];
  nextCursor: string | null;
}

const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;
const MAX_ID_PART = 18446744073709551615n;
/** A stream id Redis accepts: both parts fit in 64 bits (a larger one is a Redis error, not a miss). */
export const isRecordId = (id: string) => {
  const parts = STREAM_ID.exec(id);
  return parts !== null && BigInt(parts[1]!) <= MAX_ID_PART && BigInt(parts[2]!) <= MAX_ID_PART;
};

/** How many index entries one page may scan when filters skip most of them. */
const MAX_SCAN = 5000;

function fieldsToObject(fields: string[]): Record<string, string> {
  const object: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) object[fields[i]!] = fields[i + 1]!;
  return object;
}

function decodeRecord(id: string, fields: string[]): AccessRecord | undefined {
  const raw = fieldsToObject(fields).r;
  return raw ? { id, ...(JSON.parse(raw) as NewAccessRecord) } : undefined;
}

const idTime = (id: string) => Number(id.slice(0, id.indexOf('-')));

/**
 * The greatest id below `id`, or undefined below 0-0. Redis refuses an exclusive bound
 * '(0-0' as an end ("invalid end ID"), so pages step below an id themselves.
 */
function idBefore(id: string): string | undefined {
  const [ms, seq] = id.split('-').map(BigInt) as [bigint, bigint];
  if (seq > 0n) return `${ms}-${seq - 1n}`;
  return ms > 0n ? `${ms - 1n}-${MAX_ID_PART}` : undefined;
}

/** Orders two record ids as the log does: negative when `a` is older. */
export function compareRecordIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bMs, bSeq] = b.split('-').map(BigInt) as [bigint, bigint];
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  return aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1;
}

/** Wait for this many replicas after each write, up to `timeoutMs` (best effort: a shortfall is not an error). */
export interface RecordDurability {
  replicas: number;
  timeoutMs: number;
}

export class RecordStore {
  constructor(
    private readonly redis: RedisConnection,
    private readonly retention: Retention = defaultRetention,
    private readonly durability?: RecordDurability,
  ) {}

  /**
   * Appends a record; answers its id. Retries of one call never add it twice; give
   * `writeId` to make separate calls one write (the untriggered record of an event and a
   * trigger, however often the event is evaluated). Once the record has left the log
   * (retention), a write under its id adds it again.
   */
  async append(record: NewAccessRecord, now = Date.now(), writeId?: string): Promise<string> {
    const [id] = await this.write(record, now, false, writeId);
    return id;
  }

  /**
   * Appends the record of a delivery attempt and answers, besides its id, since when
   * (epoch ms) the trigger has failed without a success in between (undefined after a success).
   */
  async appendAttempt(
    record: NewAccessRecord,
    now = Date.now(),
    writeId?: string,
  ): Promise<{ id: string; failingSince?: number }> {
    const [id, since] = await this.write(record, now, true, writeId);
    return since === undefined ? { id } : { id, failingSince: Number(since) };
  }

  /**
   * The record a write under `writeId` added, while the log still holds it (its write marker
   * lasts at least as long); undefined when there was no such write.
   */
  async findWritten(namespace: string, writeId: string): Promise<AccessRecord | undefined> {
    const [current, previous] = await Promise.all([
      this.redis.hget(keys.recordWrites(namespace, 'current'), writeId),
      this.redis.hget(keys.recordWrites(namespace, 'previous'), writeId),
    ]);
    const reply = current ?? previous;
    if (!reply) return undefined;
    const [id] = JSON.parse(reply) as [string];
    return this.get(namespace, id);
  }

  private async write(
    record: NewAccessRecord,
    now: number,
    trackHealth: boolean,
    writeId: string = randomUUID(),
  ): Promise<[string, string?]> {
    const minId = String(Math.max(0, now - this.retention.maxAgeMs));
    const scriptKeys = [
      keys.recordLog(record.namespace),
      keys.triggerRecordIndex(record.namespace, record.repository, record.triggerId),
      keys.repositoryRecordIndex(record.namespace, record.repository),
    ];
    const args: Array<string | number> = [
      minId,
      this.retention.maxRecordsPerNamespace,
      JSON.stringify(record),
      record.status,
      record.tag,
      // Index entries keep the reason ('r', empty for none) so a page filters on it unread. Every
      // entry has the same fields, which streams store compactly (only the values).
      record.reason ?? '',
    ];
    if (trackHealth) {
      scriptKeys.push(keys.triggerHealth(record.namespace, record.repository));
      args.push(record.triggerId, now);
    }
    if (writeId === '') throw new Error('an access-log write id must not be empty');
    args.push(Math.max(1, Math.ceil(this.retention.maxAgeMs)), writeId);
    scriptKeys.push(
      keys.recordWrites(record.namespace, 'current'),
      keys.recordWrites(record.namespace, 'previous'),
    );
    const wroteVia = this.durability && (slotMaster(this.redis, scriptKeys[0]!) ?? null);
    const reply = (await APPEND_SCRIPT.run(this.redis, scriptKeys, args)) as [string, string?];
    // On a cluster a record the master acknowledged can be missing on the replica that takes
    // over if the master dies right then; the delivery it records would not be run again.
    // Best effort: the record is written, and an error here (the master died during the WAIT)
    // must not make the caller write it, or send its delivery, again.
    if (this.durability) {
      const { replicas, timeoutMs } = this.durability;
      await waitForReplicas(this.redis, scriptKeys[0]!, replicas, timeoutMs, wroteVia).catch(() => {});
    }
    return reply;
  }

  async get(namespace: string, id: string): Promise<AccessRecord | undefined> {
    if (!isRecordId(id)) return undefined;
    const entries = (await this.redis.xrange(keys.recordLog(namespace), id, id)) as Array<[string, string[]]>;
    const entry = entries[0];
    return entry ? decodeRecord(entry[0], entry[1]) : undefined;
  }

  /** Newest first. The cursor is the last id returned, so new records never shift a page. */
  async list(query: RecordQuery): Promise<RecordPage> {
    const { namespace } = query;
    const stream =
      'all' in query.scope
        ? keys.recordLog(namespace)
        : query.scope.triggerId !== undefined
          ? keys.triggerRecordIndex(namespace, query.scope.repository, query.scope.triggerId)
          : keys.repositoryRecordIndex(namespace, query.scope.repository);
    const fullRecords = 'all' in query.scope;

    const belowCursor = query.cursor === undefined ? undefined : idBefore(query.cursor);
    // Nothing is older than the cursor 0-0.
    if (query.cursor !== undefined && belowCursor === undefined) return { records: [], nextCursor: null };
    let upper = belowCursor ?? (query.until !== undefined ? `${query.until}-${MAX_ID_PART}` : '+');
    let lower = query.since !== undefined ? `${query.since}-0` : '-';
    if (!fullRecords) {
      // Index entries older than the log's first record point at trimmed records: a page
      // must not spend its scan on them, nor offer a cursor into them.
      const first = await this.firstId(namespace);
      if (first === undefined) return { records: [], nextCursor: null };
      if (lower === '-' || compareRecordIds(first, lower) > 0) lower = first;
    }
    const matchedIds: string[] = [];
    const matchedRecords: AccessRecord[] = [];
    let scanned = 0;
    let exhausted = false;
    let lastScanned: string | undefined;
    const batch = Math.min(Math.max(query.limit * 2, 50), 1000);

    while (matchedIds.length < query.limit && scanned < MAX_SCAN) {
      const entries = (await this.redis.xrevrange(stream, upper, lower, 'COUNT', batch)) as Array<
        [string, string[]]
      >;
      for (const [id, fields] of entries) {
        scanned++;
        lastScanned = id;
        if (query.until !== undefined && idTime(id) > query.until) continue;
        const f = fieldsToObject(fields);
        if (fullRecords) {
          const record = decodeRecord(id, fields);
          if (!record) continue;
          if (query.status && record.status !== query.status) continue;
          if (query.reason && record.reason !== query.reason) continue;
          if (query.tag !== undefined && record.tag !== query.tag) continue;
          matchedRecords.push(record);
          matchedIds.push(id);
        } else {
          if (query.status && f.s !== query.status) continue;
          if (query.reason && f.r !== query.reason) continue;
          if (query.tag !== undefined && f.g !== query.tag) continue;
          matchedIds.push(id);
        }
        if (matchedIds.length === query.limit) break;
      }
      if (entries.length < batch && matchedIds.length < query.limit) {
        exhausted = true;
        break;
      }
      const next = lastScanned && idBefore(lastScanned);
      if (!next) break;
      upper = next;
    }

    const records = fullRecords ? matchedRecords : await this.fetch(namespace, matchedIds);
    const last = matchedIds.length === query.limit ? matchedIds.at(-1) : lastScanned;
    const nextCursor = exhausted || !last || !(await this.hasOlder(stream, last, lower)) ? null : last;
    return { records, nextCursor };
  }

  private async firstId(namespace: string): Promise<string | undefined> {
    const first = (await this.redis.xrange(keys.recordLog(namespace), '-', '+', 'COUNT', 1)) as Array<
      [string, string[]]
    >;
    return first[0]?.[0];
  }

  private async hasOlder(stream: string, id: string, lower: string): Promise<boolean> {
    const before = idBefore(id);
    if (before === undefined) return false;
    const older = await this.redis.xrevrange(stream, before, lower, 'COUNT', 1);
    return older.length > 0;
  }

  /** Whole records for index ids; ids whose record was trimmed from the log are skipped. */
  private async fetch(namespace: string, ids: string[]): Promise<AccessRecord[]> {
    if (ids.length === 0) return [];
    const log = keys.recordLog(namespace);
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.xrange(log, id, id);
    const results = (await pipeline.exec()) ?? [];
    const records: AccessRecord[] = [];
    for (const [error, value] of results) {
      if (error) throw error;
      const entry = (value as Array<[string, string[]]>)[0];
      const record = entry && decodeRecord(entry[0], entry[1]);
      if (record) records.push(record);
    }
    return records;
  }

  /** Up to `count` records newer than `afterId`, oldest first, without waiting for any. */
  after(namespace: string, afterId: string, count = 100): Promise<AccessRecord[]> {
    return RecordStore.read(this.redis, namespace, afterId, count);
  }

  /** Records newer than `afterId`, oldest first, waiting up to `blockMs` for one (use a dedicated connection). */
  static readAfter(
    blocking: RedisConnection,
    namespace: string,
    afterId: string,
    blockMs: number,
    count = 100,
  ): Promise<AccessRecord[]> {
    return RecordStore.read(blocking, namespace, afterId, count, blockMs);
  }

  // XREAD's id is exclusive for every id, the greatest one included (an XRANGE '(' is not).
  private static async read(
    connection: RedisConnection,
    namespace: string,
    afterId: string,
    count: number,
    blockMs?: number,
  ): Promise<AccessRecord[]> {
    const log = keys.recordLog(namespace);
    const result = (
      blockMs === undefined
        ? await connection.xread('COUNT', count, 'STREAMS', log, afterId)
        : await connection.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', log, afterId)
    ) as Array<[string, Array<[string, string[]]>]> | null;
    const entries = result?.[0]?.[1] ?? [];
    return entries.flatMap(([id, fields]) => {
      const record = decodeRecord(id, fields);
      return record ? [record] : [];
    });
  }

  /** The id of the newest record of a namespace, or '0-0'. */
  async lastId(namespace: string): Promise<string> {
    const newest = (await this.redis.xrevrange(keys.recordLog(namespace), '+', '-', 'COUNT', 1)) as Array<
      [string, string[]]
    >;
    return newest[0]?.[0] ?? '0-0';
  }
}
