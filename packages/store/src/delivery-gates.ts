/**
 * The Redis side of the per-trigger delivery gates (coalesce, ordered, rateLimit; the worker's
 * gates/ decide with them before each attempt). Every script works on the keys of one trigger
 * under its namespace's hash tag (one Cluster slot), the per-host limit on its own single-key
 * slot; every clock is Redis's (TIME), so all worker processes share one view of it.
 */
import type { RedisConnection } from './connection.js';
import { keys } from './keys.js';
import { defineScript } from './scripts.js';

/** Longer than any delivery's retries last (days), so an idle gate's keys go away by themselves. */
const GATE_TTL_MS = 8 * 24 * 3600 * 1000;

export interface GateDelivery {
  namespace: string;
  repository: string;
  triggerId: string;
  tag: string;
  deliveryId: string;
}

// KEYS: order, coalesce, meta. ARGV: delivery id, acceptance score, event id, ordered?, coalesce?, ttl.
// NX everywhere: a re-evaluation of the same push registers nothing new and keeps its place.
const REGISTER_SCRIPT = defineScript(
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
const ORDER_ADMIT_SCRIPT = defineScript(
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
const COALESCE_ADMIT_SCRIPT = defineScript(
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
const RATE_ADMIT_SCRIPT = defineScript(
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
const RELEASE_SCRIPT = defineScript(
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
const DROP_HEAD_SCRIPT = defineScript(
  'gateDropHead',
  `
if redis.call('ZRANGE', KEYS[1], 0, 0)[1] ~= ARGV[1] then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1`,
);

export type OrderAdmission =
  | { kind: 'absent'; nowMs: number }
  | { kind: 'go'; nowMs: number; registeredAt: number }
  | { kind: 'wait'; nowMs: number; head: string; rank: number; headRegisteredAt: number };

export type CoalesceAdmission =
  | { kind: 'absent' }
  | { kind: 'superseded'; byEventId: string }
  | { kind: 'wait'; leaseMs: number }
  | { kind: 'go'; older: string[] };

export type RateAdmission =
  | { kind: 'go'; nowMs: number }
  | { kind: 'wait'; nowMs: number; retryAtMs: number; cause: 'slot' | 'in-flight' };

export interface RateSpec {
  perSecond: number;
  maxInFlight?: number | undefined;
  leaseMs: number;
}

export interface WakeList {
  orderHead: string;
  coalesceNewest: string;
  inFlightWaiter: string;
}

const triggerKeys = (d: GateDelivery) => [
  keys.gateOrder(d.namespace, d.repository, d.triggerId),
  keys.gateCoalesce(d.namespace, d.repository, d.triggerId, d.tag),
  keys.gateCoalesceLease(d.namespace, d.repository, d.triggerId, d.tag),
  keys.gateMeta(d.namespace, d.repository, d.triggerId),
  keys.gateRate(d.namespace, d.repository, d.triggerId),
  keys.gateInFlight(d.namespace, d.repository, d.triggerId),
  keys.gateInFlightWaiters(d.namespace, d.repository, d.triggerId),
  keys.gateCoalesceDone(d.namespace, d.repository, d.triggerId, d.tag),
];

const intervalUs = (perSecond: number) => Math.max(1, Math.round(1_000_000 / perSecond));

function parseRate(reply: unknown): RateAdmission {
  const [kind, nowMs, retryAtMs, cause] = reply as [string, number, number?, string?];
  if (kind === 'go') return { kind, nowMs: Number(nowMs) };
  return {
    kind: 'wait',
    nowMs: Number(nowMs),
    retryAtMs: Number(retryAtMs),
    cause: cause === 'in-flight' ? 'in-flight' : 'slot',
  };
}

export class DeliveryGateStore {
  constructor(private readonly redis: RedisConnection) {}

  /**
   * At evaluation, before the delivery's job exists: its place by its push's acceptance
   * (`score`, the event's receivedAt) among the trigger's deliveries (ordered) and its tag's
   * (coalesce).
   */
  async register(
    delivery: GateDelivery & { eventId: string; score: number },
    gates: { ordered: boolean; coalesce: boolean },
  ): Promise<void> {
    const [order, coalesce, , meta] = triggerKeys(delivery);
    await REGISTER_SCRIPT.run(
      this.redis,
      [order as string, coalesce as string, meta as string],
      [
        delivery.deliveryId,
        delivery.score,
        delivery.eventId,
        gates.ordered ? '1' : '0',
        gates.coalesce ? '1' : '0',
        GATE_TTL_MS,
      ],
    );
  }

  async admitOrdered(d: GateDelivery): Promise<OrderAdmission> {
    const [order, , , meta] = triggerKeys(d);
    const reply = (await ORDER_ADMIT_SCRIPT.run(
      this.redis,
      [order as string, meta as string],
      [d.deliveryId],
    )) as Array<string | number>;
    const kind = String(reply[0]);
    const nowMs = Number(reply[1]);
    if (kind === 'absent') return { kind, nowMs };
    if (kind === 'go') return { kind, nowMs, registeredAt: Number(reply[2]) };
    return {
      kind: 'wait',
      nowMs,
      head: String(reply[2]),
      rank: Number(reply[3]),
      headRegisteredAt: Number(reply[4]),
    };
  }

  /** Drops `head` from the trigger's order if it still heads it (its delivery has ended). */
  async dropHead(d: GateDelivery, head: string): Promise<boolean> {
    const [order, , , meta] = triggerKeys(d);
    return (await DROP_HEAD_SCRIPT.run(this.redis, [order as string, meta as string], [head])) === 1;
  }

  async admitCoalesce(d: GateDelivery, leaseMs: number): Promise<CoalesceAdmission> {
    const all = triggerKeys(d);
    const reply = (await COALESCE_ADMIT_SCRIPT.run(this.redis, [all[1], all[2], all[3], all[7]] as string[], [
      d.deliveryId,
      leaseMs,
    ])) as Array<string | number>;
    const kind = String(reply[0]);
    if (kind === 'absent') return { kind };
    if (kind === 'superseded') return { kind, byEventId: String(reply[1]) };
    if (kind === 'wait') return { kind, leaseMs: Math.max(0, Number(reply[1])) };
    return { kind: 'go', older: reply.slice(1).map(String) };
  }

  async admitRate(d: GateDelivery, spec: RateSpec): Promise<RateAdmission> {
    const all = triggerKeys(d);
    return parseRate(
      await RATE_ADMIT_SCRIPT.run(this.redis, [all[4], all[5], all[6]] as string[], [
        d.deliveryId,
        intervalUs(spec.perSecond),
        spec.maxInFlight ?? 0,
        spec.leaseMs,
        GATE_TTL_MS,
      ]),
    );
  }

  /** DELIVERY_HOST_RATE_LIMIT: the same GCRA on the receiver host's own key (no in-flight bound). */
  async admitHost(host: string, deliveryId: string, perSecond: number): Promise<RateAdmission> {
    return parseRate(
      await RATE_ADMIT_SCRIPT.run(
        this.redis,
        [keys.hostRate(host)],
        [deliveryId, intervalUs(perSecond), 0, 0, GATE_TTL_MS],
      ),
    );
  }

  /**
   * After an attempt (or a gate turning the delivery away after an earlier gate let it pass):
   * frees its lease and in-flight slot; `final` (the delivery ended) also its places. Answers
   * the deliveries to wake.
   */
  async release(d: GateDelivery, final: boolean): Promise<WakeList> {
    const [head, newest, waiter] = (await RELEASE_SCRIPT.run(this.redis, triggerKeys(d), [
      d.deliveryId,
      final ? '1' : '0',
      GATE_TTL_MS,
    ])) as string[];
    return { orderHead: head ?? '', coalesceNewest: newest ?? '', inFlightWaiter: waiter ?? '' };
  }
}
