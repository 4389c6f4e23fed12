/**
 * The Redis side of the per-trigger delivery gates (coalesce, ordered, rateLimit; the worker's
 * gates/ decide with them before each attempt). Every script works on the keys of one trigger
 * under its namespace's hash tag (one Cluster slot), the per-host limit on its own single-key
 * slot; every clock is Redis's (TIME), so all worker processes share one view of it.
 */
import type { RedisConnection } from './connection.js';
import {
  COALESCE_ADMIT_SCRIPT,
  DROP_HEAD_SCRIPT,
  ORDER_ADMIT_SCRIPT,
  RATE_ADMIT_SCRIPT,
  REGISTER_SCRIPT,
  RELEASE_SCRIPT,
} from './delivery-gate-scripts.js';
import { keys } from './keys.js';

/** Longer than any delivery's retries last (days), so an idle gate's keys go away by themselves. */
const GATE_TTL_MS = 8 * 24 * 3600 * 1000;

export interface GateDelivery {
  namespace: string;
  repository: string;
  triggerId: string;
  tag: string;
  deliveryId: string;
}

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
