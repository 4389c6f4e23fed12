/**
 * Rate limits counted in Redis, so that every api replica counts into the same key: a
 * sliding window (a sorted set of the admitted requests' times, by the Redis clock, so
 * replicas with skewed clocks still agree). One key per limited thing, so one slot.
 */
import { randomUUID } from 'node:crypto';
import type { RedisConnection } from './connection.js';
import { defineScript } from './scripts.js';

// KEYS[1]: the window; ARGV: limit, window ms, a unique member. Answers {1, 0} when taken,
// {0, ms until the oldest request in the window leaves it} when the limit is reached.
const TAKE_SCRIPT = defineScript(
  'rateLimitTake',
  `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return { 0, math.max(1, tonumber(oldest[2]) + window - now) }
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return { 1, 0 }`,
);

export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/** Takes one request from the window at `key`: at most `limit` per `windowMs`, sliding. */
export async function takeFromWindow(
  redis: RedisConnection,
  key: string,
  limit: number,
  windowMs: number,
): Promise<RateDecision> {
  const [taken, retryAfterMs] = (await TAKE_SCRIPT.run(redis, [key], [limit, windowMs, randomUUID()])) as [
    number,
    number,
  ];
  return taken === 1 ? { allowed: true } : { allowed: false, retryAfterMs };
}
