/**
 * The Lua scripts of the delivery gates (delivery-gates.ts runs them): each works on the keys of
 * one trigger under its namespace's hash tag, or on one host's key, and reads the time from Redis.
 */
import { defineScript } from './scripts.js';
// KEYS: order, coalesce, meta. ARGV: delivery id, acceptance score, event id, ordered?, coalesce?, ttl.
// NX everywhere: a re-evaluation of the same push registers nothing new and keeps its place.
export const REGISTER_SCRIPT = defineScript(
  'gateRegister',
  `
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSETNX', KEYS[3], ARGV[1], nowMs .. ' ' .. ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[6])
if ARGV[4] == '1' then
  redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
end
if ARGV[5] == '1' then
  redis.call('ZADD', KEYS[2], 'NX', ARGV[2], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
end
return 1`,
);

// KEYS: order, meta. ARGV: delivery id. Answers {'absent'}, {'go', nowMs, registeredAt},
// or {'wait', nowMs, head, rank, headRegisteredAt}.
export const ORDER_ADMIT_SCRIPT = defineScript(
  'gateOrderAdmit',
  `
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rank = redis.call('ZRANK', KEYS[1], ARGV[1])
if not rank then return {'absent', nowMs} end
local function registeredAt(member)
  local meta = redis.call('HGET', KEYS[2], member)
  if not meta then return 0 end
  return tonumber(string.match(meta, '^(%d+)')) or 0
end
if rank == 0 then return {'go', nowMs, registeredAt(ARGV[1])} end
local head = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
return {'wait', nowMs, head, rank, registeredAt(head)}`,
);

// KEYS: coalesce, lease, meta, done. ARGV: delivery id, lease ms. Answers {'absent'},
// {'superseded', newest event id}, {'wait', lease pttl}, or {'go', older delivery ids...}.
// A newer push whose delivery already ended supersedes too (done: it is no longer registered).
export const COALESCE_ADMIT_SCRIPT = defineScript(
  'gateCoalesceAdmit',
  `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return {'absent'} end
local done = redis.call('GET', KEYS[4])
if done then
  local doneScore, doneEvent = string.match(done, '^(%S+) (.*)$')
  if tonumber(doneScore) > tonumber(score) then
    redis.call('ZREM', KEYS[1], ARGV[1])
    if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
    return {'superseded', doneEvent}
  end
end
local newest = redis.call('ZRANGE', KEYS[1], -1, -1)[1]
if newest ~= ARGV[1] then
  redis.call('ZREM', KEYS[1], ARGV[1])
  if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
  local meta = redis.call('HGET', KEYS[3], newest) or ''
  return {'superseded', string.match(meta, '^%d+ (.*)$') or newest}
end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return {'wait', redis.call('PTTL', KEYS[2])} end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
local reply = {'go'}
for _, older in ipairs(redis.call('ZRANGE', KEYS[1], 0, 9)) do
  if older ~= ARGV[1] then table.insert(reply, older) end
end
return reply`,
);

// GCRA with reservations, in µs by Redis's clock: each delivery is given its own slot
// (emission interval ARGV[2] apart, no burst), kept in the hash until it comes, so a backlog
// wakes one delivery per slot instead of every waiter at every slot. maxInFlight (ARGV[3], 0:
// none) counts leases that expire (ARGV[4] ms), so a killed worker frees its slot.
// KEYS: rate hash[, in-flight, waiters]. ARGV: delivery id, interval µs, max in flight, lease ms, ttl.
// Answers {'go', nowMs} or {'wait', nowMs, retryAtMs, 'slot' | 'in-flight'}.
export const RATE_ADMIT_SCRIPT = defineScript(
  'gateRateAdmit',
  `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nowMs = math.floor(now / 1000)
local member = ARGV[1]
local max = tonumber(ARGV[3])
if max > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', nowMs)
  if not redis.call('ZSCORE', KEYS[2], member) and redis.call('ZCARD', KEYS[2]) >= max then
    redis.call('ZADD', KEYS[3], 'NX', nowMs, member)
    redis.call('PEXPIRE', KEYS[3], ARGV[5])
    local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return {'wait', nowMs, tonumber(first[2]), 'in-flight'}
  end
end
local field = 'r:' .. member
local slot = tonumber(redis.call('HGET', KEYS[1], field) or '')
if not slot then
  local tat = tonumber(redis.call('HGET', KEYS[1], 'tat') or '0')
  slot = math.max(tat, now)
  redis.call('HSET', KEYS[1], 'tat', string.format('%d', slot + tonumber(ARGV[2])))
end
local ttl = math.max(tonumber(ARGV[5]), math.ceil((slot - now) / 1000) + 3600000)
redis.call('PEXPIRE', KEYS[1], ttl)
if slot > now then
  redis.call('HSET', KEYS[1], field, string.format('%d', slot))
  return {'wait', nowMs, math.ceil(slot / 1000), 'slot'}
end
redis.call('HDEL', KEYS[1], field)
if max > 0 then
  redis.call('ZADD', KEYS[2], nowMs + tonumber(ARGV[4]), member)
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
  redis.call('ZREM', KEYS[3], member)
end
return {'go', nowMs}`,
);

// KEYS: order, coalesce, lease, meta, rate, in-flight, waiters, coalesce done. ARGV: delivery
// id, final?, ttl. Frees what the delivery holds (a final end: its places too, and a coalesce
// delivery that ended becomes its tag's done mark if newest) and answers whom to wake:
// {order head, coalesce newest, in-flight waiter} ('' for none).
export const RELEASE_SCRIPT = defineScript(
  'gateRelease',
  `
local member = ARGV[1]
if redis.call('GET', KEYS[3]) == member then redis.call('DEL', KEYS[3]) end
redis.call('ZREM', KEYS[6], member)
if ARGV[2] == '1' then
  local score = redis.call('ZSCORE', KEYS[2], member)
  local meta = redis.call('HGET', KEYS[4], member)
  local event = meta and string.match(meta, '^%d+ (.*)$')
  if score and event then
    local done = redis.call('GET', KEYS[8])
    local doneScore = done and tonumber(string.match(done, '^(%S+) '))
    if not doneScore or tonumber(score) >= doneScore then
      redis.call('SET', KEYS[8], score .. ' ' .. event, 'PX', ARGV[3])
    end
  end
  redis.call('ZREM', KEYS[7], member)
  redis.call('ZREM', KEYS[1], member)
  redis.call('ZREM', KEYS[2], member)
  redis.call('HDEL', KEYS[4], member)
  redis.call('HDEL', KEYS[5], 'r:' .. member)
end
local head = redis.call('ZRANGE', KEYS[1], 0, 0)[1] or ''
local newest = redis.call('ZRANGE', KEYS[2], -1, -1)[1] or ''
local waiter = redis.call('ZRANGE', KEYS[7], 0, 0)[1] or ''
return {head, newest, waiter}`,
);

// KEYS: order, meta. ARGV: head id. Drops a head whose delivery ended without releasing it.
export const DROP_HEAD_SCRIPT = defineScript(
  'gateDropHead',
  `
if redis.call('ZRANGE', KEYS[1], 0, 0)[1] ~= ARGV[1] then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1`,
);
