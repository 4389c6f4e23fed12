/**
 * ordered: a trigger's deliveries leave in the order their pushes were accepted, one at a time.
 * A delivery goes when it heads the trigger's order (store/delivery-gates.ts) and has been
 * registered for SETTLE_MS: two pushes evaluated at once by two workers register in either
 * order, and the settle time lets the earlier one take its place before the later one goes.
 */
import type { DeliveryGateStore, GateDelivery } from '@registry-triggers/store';

export const SETTLE_MS = 250;
/** How soon the delivery next in line looks again if no release wakes it first. */
const NEXT_POLL_MS = 2_000;
/** Deliveries further back are woken by the ones before them; this is only a safety net. */
const FAR_POLL_MS = 30_000;
/** A head registered this long ago whose job is gone ended without a release (cancelled, lost). */
const MISSING_JOB_GRACE_MS = 60_000;

export type OrderedDecision = { go: true } | { go: false; waitMs: number };

/** The state of a delivery's queue job: 'ended' (completed, failed or gone), or 'pending'. */
export type JobStateOf = (
  delivery: GateDelivery,
  deliveryId: string,
) => Promise<'ended' | 'missing' | 'pending'>;

export async function admitOrdered(
  store: DeliveryGateStore,
  delivery: GateDelivery,
  jobState: JobStateOf,
): Promise<OrderedDecision> {
  // Twice at most: once more after dropping a head whose delivery ended without a release.
  for (let round = 0; round < 2; round++) {
    const admission = await store.admitOrdered(delivery);
    if (admission.kind === 'absent') return { go: true };
    if (admission.kind === 'go') {
      const settled = admission.registeredAt + SETTLE_MS - admission.nowMs;
      return settled > 0 ? { go: false, waitMs: settled } : { go: true };
    }
    const state = await jobState(delivery, admission.head);
    const stale =
      state === 'ended' ||
      (state === 'missing' && admission.nowMs - admission.headRegisteredAt > MISSING_JOB_GRACE_MS);
    if (!stale || !(await store.dropHead(delivery, admission.head))) {
      return { go: false, waitMs: admission.rank === 1 ? NEXT_POLL_MS : FAR_POLL_MS };
    }
  }
  return { go: false, waitMs: NEXT_POLL_MS };
}
