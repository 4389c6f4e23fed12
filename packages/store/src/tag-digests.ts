/**
 * The last digest of every tag of a repository, for onlyOnDigestChange and the previous-digest
 * header. One hash per repository under its namespace's hash tag, so the evaluation script
 * (triggers.ts) reads and moves it in the same atomic step as it loads the triggers: of two
 * racing pushes of one tag, the second always sees the first one's digest.
 *
 * Bounded: at most MAX_TRACKED_TAGS tags per repository (a new tag beyond it evicts a random
 * one, whose next push then counts as a first push and fires: the safe side), and the hash
 * expires TAG_DIGEST_TTL_MS after the repository's last push with a digest.
 *
 * A re-evaluation of the same push (a retried or stalled job) answers what the first one did:
 * each entry keeps which push set it and the digest before it.
 */
export const MAX_TRACKED_TAGS = 10_000;
export const TAG_DIGEST_TTL_MS = 30 * 24 * 3600 * 1000;

/**
 * A Lua function `moveTagDigest(key, tag, digest, mark, cap, ttl)` answering the tag's
 * previous digest ('' for a first push). A push without a digest leaves the entry alone.
 */
export const MOVE_TAG_DIGEST_LUA = `
local function moveTagDigest(key, tag, digest, mark, cap, ttl)
  if digest == '' then return '' end
  local raw = redis.call('HGET', key, tag)
  local entry = raw and cjson.decode(raw)
  if entry and entry.e == mark then return entry.p end
  local previous = entry and entry.d or ''
  if not entry and redis.call('HLEN', key) >= tonumber(cap) then
    redis.call('HDEL', key, redis.call('HRANDFIELD', key))
  end
  redis.call('HSET', key, tag, cjson.encode({ d = digest, e = mark, p = previous }))
  redis.call('PEXPIRE', key, ttl)
  return previous
end`;

/** Which push moved a tag: its event id and arrival (an event id reused after the dedupe window is a new push). */
export const pushMark = (eventId: string, receivedAt: number) => `${eventId}@${receivedAt}`;
