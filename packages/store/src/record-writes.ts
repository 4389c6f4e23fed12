/**
 * The one writer of access records: the append script (log, indexes, retention, trigger
 * health) and the write markers that make a write exactly once, with their one reader.
 */
import { randomUUID } from 'node:crypto';
import type { RedisConnection } from './connection.js';
import { ReplicaWait, replicaWaitOf } from './durability.js';
import { keys } from './keys.js';
import type { NewAccessRecord } from './record-ids.js';
import type { Retention } from './record-retention.js';
import { defineScript } from './scripts.js';

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

/**
 * Wait for this many replicas after each write, up to `timeoutMs` (best effort: a shortfall is
 * not an error): the settings, on the connection's own ReplicaWait, or a ReplicaWait given
 * (its settings).
 */
export type RecordDurability = { replicas: number; timeoutMs: number } | ReplicaWait;

/**
 * Appends `record` under `writeId` (a retry of one write, or another write under the same id,
 * answers the first reply); with `trackHealth`, also answers since when its trigger has failed.
 */
export async function writeRecord(
  redis: RedisConnection,
  retention: Retention,
  durability: RecordDurability | undefined,
  record: NewAccessRecord,
  now: number,
  trackHealth: boolean,
  writeId: string = randomUUID(),
): Promise<[string, string?]> {
  const minId = String(Math.max(0, now - retention.maxAgeMs));
  const scriptKeys = [
    keys.recordLog(record.namespace),
    keys.triggerRecordIndex(record.namespace, record.repository, record.triggerId),
    keys.repositoryRecordIndex(record.namespace, record.repository),
  ];
  const args: Array<string | number> = [
    minId,
    retention.maxRecordsPerNamespace,
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
  args.push(Math.max(1, Math.ceil(retention.maxAgeMs)), writeId);
  scriptKeys.push(
    keys.recordWrites(record.namespace, 'current'),
    keys.recordWrites(record.namespace, 'previous'),
  );
  const wait = durability && (durability instanceof ReplicaWait ? durability : replicaWaitOf(redis));
  const settings = durability instanceof ReplicaWait ? durability.settings : durability;
  const wroteVia = wait && (wait.slotMaster(scriptKeys[0]!) ?? null);
  const reply = (await APPEND_SCRIPT.run(redis, scriptKeys, args)) as [string, string?];
  // On a cluster a record the master acknowledged can be missing on the replica that takes
  // over if the master dies right then; the delivery it records would not be run again.
  // Best effort: the record is written, and an error here (the master died during the WAIT)
  // must not make the caller write it, or send its delivery, again.
  if (wait && settings) await wait.wait(scriptKeys[0]!, wroteVia, settings).catch(() => {});
  return reply;
}

/** The id of the record a write under `writeId` added, if its write marker is still kept. */
export async function writtenRecordId(
  redis: RedisConnection,
  namespace: string,
  writeId: string,
): Promise<string | undefined> {
  const [current, previous] = await Promise.all([
    redis.hget(keys.recordWrites(namespace, 'current'), writeId),
    redis.hget(keys.recordWrites(namespace, 'previous'), writeId),
  ]);
  const reply = current ?? previous;
  if (!reply) return undefined;
  const [id] = JSON.parse(reply) as [string];
  return id;
}
