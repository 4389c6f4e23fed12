/**
 * rateLimit and DELIVERY_HOST_RATE_LIMIT: a GCRA by Redis's clock shared by every worker
 * process (store/delivery-gates.ts). A delivery beyond the limit is given its own later slot
 * and waits for it; one waiting for an in-flight slot is woken by the release of one.
 */
import type { RateLimit } from '@registry-triggers/core';
import type { DeliveryGateStore, GateDelivery, RateAdmission } from '@registry-triggers/store';

/** How soon a delivery waiting for an in-flight slot looks again if no release wakes it first. */
const IN_FLIGHT_POLL_MS = 5_000;

export type RateDecision = { go: true } | { go: false; waitMs: number };

const decide = (admission: RateAdmission): RateDecision => {
  if (admission.kind === 'go') return { go: true };
  const untilMs = Math.max(0, admission.retryAtMs - admission.nowMs);
  return {
    go: false,
    waitMs: admission.cause === 'in-flight' ? Math.min(untilMs, IN_FLIGHT_POLL_MS) : untilMs,
  };
};

export async function admitTriggerRate(
  store: DeliveryGateStore,
  delivery: GateDelivery,
  limit: RateLimit,
  leaseMs: number,
): Promise<RateDecision> {
  return decide(
    await store.admitRate(delivery, { perSecond: limit.perSecond, maxInFlight: limit.maxInFlight, leaseMs }),
  );
}

export async function admitHostRate(
  store: DeliveryGateStore,
  url: string,
  deliveryId: string,
  perSecond: number,
): Promise<RateDecision> {
  // The host as the URL names it, port included: one receiver, whichever trigger points at it.
  return decide(await store.admitHost(new URL(url).host.toLowerCase(), deliveryId, perSecond));
}
